namespace Skein.Market.Akash;

/// <summary>How a deploy through Console ended.</summary>
public enum AkashDeployOutcome
{
    /// <summary>Every group has a lease and the providers have the manifest.</summary>
    Leased,

    /// <summary>Some group got no (acceptable) bid within the timeout.</summary>
    NoBids,

    /// <summary>Bids were chosen but Console could not create the leases or send the manifest.</summary>
    LeaseFailed,
}

/// <summary>The outcome of <see cref="AkashDeployFlow.DeployAsync"/>: the dseq, the leases with their prices, or why there are none.</summary>
public sealed record AkashDeployResult
{
    public required AkashDeployOutcome Outcome { get; init; }

    public required string Dseq { get; init; }

    /// <summary>One per group when leased, with the price per block, per hour and per month.</summary>
    public IReadOnlyList<AkashLeaseQuote> Leases { get; init; } = [];

    /// <summary>The groups (gseq) that got no bid, when the outcome is <see cref="AkashDeployOutcome.NoBids"/>.</summary>
    public IReadOnlyList<int> MissingGroups { get; init; } = [];

    /// <summary>A sentence for the user: what happened and, when it failed, what the API cannot tell.</summary>
    public required string Message { get; init; }

    /// <summary>True when the flow closed the deployment (after no bids or a failed lease).</summary>
    public bool DeploymentClosed { get; init; }

    /// <summary>The deployment as the lease call returned it.</summary>
    public AkashDeploymentDetails? Deployment { get; init; }

    /// <summary>The API's error when the lease failed.</summary>
    public AkashApiException? Error { get; init; }

    public bool AutoTopUpEnabled { get; init; }

    /// <summary>The leases' prices summed per denom.</summary>
    public IReadOnlyList<AkashPrice> Totals() =>
        Leases.GroupBy(l => (l.Price.Denom, l.Price.AverageBlockTimeSeconds))
            .Select(g => new AkashPrice(g.Key.Denom, g.Sum(l => l.Price.PerBlock), g.Key.AverageBlockTimeSeconds))
            .ToList();
}

/// <summary>A lease, what it costs, and the GPU models its bid offered (vendor/model from the bid's GPU attributes).</summary>
public sealed record AkashLeaseQuote(AkashLeaseId LeaseId, AkashPrice Price, IReadOnlyList<string> GpuModels);
