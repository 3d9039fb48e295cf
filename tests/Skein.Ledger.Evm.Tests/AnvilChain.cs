using System.Security.Cryptography;
using System.Text;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>One Anvil process for a test class, on a free loopback port; every test deploys its own contract on it.</summary>
public sealed class AnvilChain : IAsyncLifetime
{
    public const ulong ChainId = 707;

    private AnvilNode? _node;

    public AnvilNode Node => _node ?? throw new InvalidOperationException("anvil is not running");

    public async ValueTask InitializeAsync() => _node = await AnvilNode.StartAsync(ChainId, cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("skein-evm-tests/" + name)));

    /// <summary>A genesis giving each named account <paramref name="whole"/> tokens.</summary>
    public static Genesis Genesis(IEnumerable<string> names, ulong whole = 1_000, ulong unbondingBlocks = 5) =>
        new(ChainId, LedgerParams.Default with { UnbondingBlocks = unbondingBlocks },
            names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(whole))).ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>Submits <paramref name="tx"/>: null when accepted, else the refusal's code and words (what differential tests compare).</summary>
    public static async Task<(LedgerError Code, string Message)?> OutcomeAsync(ILedger ledger, SignedTransaction tx, CancellationToken ct)
    {
        try
        {
            await ledger.SubmitAsync(tx, ct);
            return null;
        }
        catch (LedgerException refusal)
        {
            return (refusal.Code, refusal.Message);
        }
    }
}
