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

/// <summary>The ledger conformance suite against SkeinLedger.sol and SkeinTasks.sol on Anvil, through <see cref="EvmLedger"/>.</summary>
public sealed class EvmLedgerConformanceTests(ConformanceChain chain) : LedgerConformanceTests, IClassFixture<ConformanceChain>
{
    protected override bool HasMarket => false;

    protected override async Task<ILedger> CreateAsync(Genesis genesis) =>
        await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, TestContext.Current.CancellationToken);

    protected override async Task AdvanceAsync(ILedger ledger, TimeSpan by) =>
        await chain.Node.MineAsync(1, TestContext.Current.CancellationToken);
}
