using Skein.Ledger.State;
using Skein.Ledger.Tests.Conformance;

namespace Skein.Ledger.Evm.Tests;

/// <summary>The chain id the shared conformance suite signs for (its TestChain's), on its own Anvil.</summary>
public sealed class ConformanceChain : IAsyncLifetime
{
    private AnvilNode? _node;

    public AnvilNode Node => _node ?? throw new InvalidOperationException("anvil is not running");

    public async ValueTask InitializeAsync() =>
        _node = await AnvilNode.StartAsync(Skein.Ledger.Tests.Rules.TestChain.ChainId, cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}

/// <summary>The ledger conformance suite against SkeinLedger.sol, SkeinTasks.sol and SkeinMarket.sol on Anvil, through <see cref="EvmLedger"/>.</summary>
public sealed class EvmLedgerConformanceTests(ConformanceChain chain) : LedgerConformanceTests, IClassFixture<ConformanceChain>
{
    private long _genesisMs;

    protected override async Task<ILedger> CreateAsync(Genesis genesis)
    {
        _genesisMs = genesis.Timestamp;
        return await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Mines a block at the start of the market block <paramref name="by"/> ahead: chain time moves in whole seconds
    /// and on with the wall clock, so the block's start leaves the test a whole market block of slack.
    /// </summary>
    protected override async Task AdvanceAsync(ILedger ledger, TimeSpan by)
    {
        var ct = TestContext.Current.CancellationToken;
        var status = await ledger.GetMarketStatusAsync(ct);
        var interval = (long)status.Params.BlockIntervalMs;
        var target = _genesisMs + ((long)status.MarketHeight + (long)(by.TotalMilliseconds / interval)) * interval;
        await chain.Node.SetNextBlockTimestampAsync((target + 999) / 1000, ct);
        await chain.Node.MineAsync(1, ct);
    }
}
