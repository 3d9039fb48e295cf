namespace Skein.Ledger.Evm;

/// <summary>
/// Runs <see cref="EvmLedger.SettleDueAsync"/> once every market block: escrows that ran dry close and unanswered
/// bids time out even when nobody acts on their deployment, as the embedded ledger's block producer makes happen.
/// </summary>
public sealed class MarketKeeper : IAsyncDisposable
{
    private readonly EvmLedger _ledger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private MarketKeeper(EvmLedger ledger)
    {
        _ledger = ledger;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Keeper transactions sent so far.</summary>
    public long Sent { get; private set; }

    /// <summary>The last failure of a round (the loop carries on), if any.</summary>
    public Exception? LastError { get; private set; }

    public static MarketKeeper Start(EvmLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return new MarketKeeper(ledger);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var interval = TimeSpan.FromMilliseconds((await _ledger.GetMarketStatusAsync(cancellationToken)).Params.BlockIntervalMs);
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    Sent += await _ledger.SettleDueAsync(cancellationToken: cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A node that is down, or a race with a transaction that settled first: the next tick tries again.
                    LastError = ex;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
