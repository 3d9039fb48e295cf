namespace Skein.Market.Akash;

/// <summary>How <see cref="AkashDeployFlow"/> deploys: deposit, how long to wait for bids, whose bid to take, the block time to price with.</summary>
public sealed record AkashDeployFlowOptions
{
    /// <summary>
    /// The deposit in dollars sent with the create. Ignored by accounts with managed deposits (Console then deposits
    /// its DEPLOYMENT_DEFAULT_DEPOSIT, $0.50, and tops up itself); required by the others. Null leaves it out.
    /// </summary>
    public decimal? DepositUsd { get; init; } = 0.5m;

    /// <summary>How long to wait for a bid on every group before giving up. Open bids close after 5 minutes on chain, so this stays well below.</summary>
    public TimeSpan BidTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>How often to ask for bids; Console's web app polls every 2 s (BID_POLL_INTERVAL, apps/deploy-web/src/queries/useListBids.ts).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to keep collecting bids once every group has one, so that more providers can undercut the first.</summary>
    public TimeSpan MinimumBidWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Take only this provider's bids (an akash1... address); null takes the cheapest bid per group.</summary>
    public string? Provider { get; init; }

    /// <summary>Seconds per block for the per-hour and per-month figures; defaults to Console's 6.098.</summary>
    public decimal AverageBlockTimeSeconds { get; init; } = AkashPrice.ConsoleAverageBlockTimeSeconds;

    /// <summary>Close the deployment when the flow does not end in a lease, so its deposit returns instead of sitting in escrow.</summary>
    public bool CloseOnFailure { get; init; } = true;

    /// <summary>Turn on Console's auto top-up (v2 deployment settings) once the lease exists.</summary>
    public bool EnableAutoTopUp { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How to wait between polls; null waits on <see cref="TimeProvider"/>. Tests advance a fake clock instead.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    /// <summary>Told when the deployment exists, after each poll, and when the leases exist.</summary>
    public IProgress<AkashDeployProgress>? Progress { get; init; }
}

/// <summary>A step of the flow, for a command to show while it waits for bids.</summary>
public sealed record AkashDeployProgress(AkashDeployStage Stage, string Dseq, int OpenBids, TimeSpan Elapsed);

/// <summary>Where the flow is.</summary>
public enum AkashDeployStage
{
    DeploymentCreated,
    BidsPolled,
    LeasesCreated,
    DeploymentClosed,
}
