using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Market.Deploy;

/// <summary>
/// Keeps a deployment's escrow runway above a number of hours, so a training node does not die mid-task because its
/// escrow ran dry (Akash Console's auto top-up does the same with a managed wallet): when the runway falls below the
/// target, it deposits enough for twice the target at the current rate.
/// </summary>
public sealed class AutoTopUp(IMarketLedger market, MarketSigner signer, DeploymentId deployment, double targetHours)
{
    /// <summary>Tops up once if needed; returns the amount deposited (0 when the runway is long enough or nothing is leased).</summary>
    public async Task<UInt128> CheckAsync(CancellationToken cancellationToken)
    {
        var rules = (await market.GetMarketStatusAsync(cancellationToken)).Params;
        var d = await market.GetDeploymentAsync(deployment, cancellationToken);
        if (d is null || d.Status != DeploymentStatus.Active || d.Escrow.RatePerBlock == 0)
        {
            return 0;
        }
        var targetBlocks = (ulong)Math.Ceiling(targetHours * 3_600_000 / rules.BlockIntervalMs);
        if (d.Escrow.RunwayBlocks >= targetBlocks)
        {
            return 0;
        }
        var wanted = d.Escrow.RatePerBlock * (targetBlocks * 2);
        var amount = wanted > d.Escrow.Balance ? wanted - d.Escrow.Balance : 0;
        if (amount == 0)
        {
            return 0;
        }
        await signer.SendAsync((f, n) => new DepositDeployment { From = f, Nonce = n, Owner = deployment.Owner, Dseq = deployment.Dseq, Amount = amount }, cancellationToken);
        return amount;
    }

    /// <summary>Checks every <paramref name="every"/> until cancelled; a failed check (the market did not answer) is retried next time.</summary>
    public async Task RunAsync(TimeSpan every, Action<UInt128>? deposited, TimeProvider? time, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var amount = await CheckAsync(cancellationToken);
                if (amount > 0)
                {
                    deposited?.Invoke(amount);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or LedgerException && !cancellationToken.IsCancellationRequested)
            {
                // next time
            }
            try
            {
                await Task.Delay(every, time ?? TimeProvider.System, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
