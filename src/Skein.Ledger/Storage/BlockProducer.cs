namespace Skein.Ledger.Storage;

/// <summary>
/// Makes the chain's height advance with time: whenever the head block is a block interval old, it seals an empty
/// block. Transactions still get a block of their own at once (a round never waits for a block); this only fills
/// the quiet intervals, so that leases are paid and escrows that ran dry close even when nobody transacts.
/// </summary>
public sealed class BlockProducer : IAsyncDisposable
{
    private readonly EmbeddedLedger _ledger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private static readonly TimeSpan RecheckEvery = TimeSpan.FromMilliseconds(250);

    private BlockProducer(EmbeddedLedger ledger)
    {
        _ledger = ledger;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Empty blocks sealed so far by this producer.</summary>
    public long Produced { get; private set; }

    /// <summary>The last failure to seal a block (the loop carries on), if any.</summary>
    public Exception? LastError { get; private set; }

    public static BlockProducer Start(EmbeddedLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return new BlockProducer(ledger);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var interval = (long)_ledger.Params.MarketRules.BlockIntervalMs;
        var time = _ledger.Time;
        while (!cancellationToken.IsCancellationRequested)
        {
            var age = time.GetUtcNow().ToUnixTimeMilliseconds() - _ledger.HeadTimestamp;
            if (age >= interval)
            {
                try
                {
                    await _ledger.ProduceEmptyBlockAsync(cancellationToken);
                    Produced++;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is LedgerException or IOException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
                {
                    // A failed seal leaves the chain at its last block; the next tick tries again.
                    LastError = ex;
                }
                continue;
            }
            // A clock that moves between reading it and arming the timer (a test's fake clock jumps) would leave the
            // timer waiting for a time computed before the jump: the clock is read again at least every 250 ms.
            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var due = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, interval - age)), time, wake.Token);
                var poll = Task.Delay(RecheckEvery, TimeProvider.System, wake.Token);
                await Task.WhenAny(due, poll);
                await wake.CancelAsync();
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
