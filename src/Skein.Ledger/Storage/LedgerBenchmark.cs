using System.Diagnostics;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Storage;

/// <summary>The result of a ledger throughput run.</summary>
public sealed record LedgerThroughput(int Transactions, int Blocks, double Seconds, double TxPerSecond, double SigningSeconds, bool Verified);

/// <summary>
/// Measures how many signed transactions the embedded ledger applies per second: signature recovery, nonce and
/// balance checks, state changes, state roots and SQLite commits included; signing (the senders' work) excluded
/// and reported apart. Transfers among <c>accounts</c> funded at genesis, in blocks of <c>blockSize</c>.
/// </summary>
public static class LedgerBenchmark
{
    public static async Task<LedgerThroughput> RunAsync(string path, int transactions, int accounts = 1000, int blockSize = 1000,
        bool verify = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(transactions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(accounts, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        const ulong chainId = 7_777;
        var keys = Enumerable.Range(0, accounts).Select(_ => LedgerKey.Generate()).ToArray();
        var genesis = new Genesis(chainId, LedgerParams.Default, keys.Select(k => new GenesisAllocation(k.Address, Tokens.Whole(1_000_000))).ToArray(), 0);

        var signClock = Stopwatch.StartNew();
        var signed = new SignedTransaction[transactions];
        Parallel.For(0, accounts, sender =>
        {
            for (var i = sender; i < transactions; i += accounts)
            {
                var to = keys[(sender + 1 + (i / accounts)) % accounts].Address;
                var tx = new Transfer { From = keys[sender].Address, Nonce = (ulong)(i / accounts), To = to, Amount = Tokens.One };
                signed[i] = keys[sender].SignTransaction(tx, chainId) with { ChainId = chainId };
            }
        });
        signClock.Stop();

        await using var ledger = await EmbeddedLedger.OpenAsync(path, genesis, cancellationToken: cancellationToken);
        var clock = Stopwatch.StartNew();
        var blocks = 0;
        for (var start = 0; start < transactions; start += blockSize)
        {
            var batch = signed.AsSpan(start, Math.Min(blockSize, transactions - start)).ToArray();
            var results = await ledger.SubmitBatchAsync(batch, cancellationToken);
            if (results.FirstOrDefault(r => r.Refusal is not null) is { } refused)
            {
                throw new InvalidOperationException($"benchmark transaction refused: {refused.Refusal!.Message}");
            }
            blocks++;
        }
        clock.Stop();
        var ok = !verify || (await EmbeddedLedger.VerifyAsync(path, cancellationToken)).Ok;
        return new LedgerThroughput(transactions, blocks, clock.Elapsed.TotalSeconds, transactions / clock.Elapsed.TotalSeconds, signClock.Elapsed.TotalSeconds, ok);
    }
}
