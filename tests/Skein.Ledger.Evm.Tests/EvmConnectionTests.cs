using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>The EVM ledger and its node: a node that restarts is waited out, confirmations are waited for, and a ledger opened to read refuses to submit.</summary>
public sealed class EvmConnectionTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private static SignedTransaction Sign(string who, Transaction tx) => AnvilChain.Key(who).SignTransaction(tx, AnvilChain.ChainId);

    private static Address A(string who) => AnvilChain.Key(who).Address;

    private static Transfer Pay(ulong nonce, ulong whole) => new() { From = A("alice"), Nonce = nonce, To = A("bob"), Amount = Tokens.Whole(whole) };

    [Fact]
    public async Task A_submission_made_while_the_node_is_down_lands_once_it_is_back_and_the_chain_state_survives_the_restart()
    {
        var ct = TestContext.Current.CancellationToken;
        var state = Path.Combine(Directory.CreateTempSubdirectory("skein-anvil-state-").FullName, "state.json");
        var first = await AnvilNode.StartAsync(AnvilChain.ChainId, 0, state, cancellationToken: ct);
        AnvilNode? second = null;
        try
        {
            await using var ledger = await EvmLedger.DeployAsync(first.Rpc, first.DevKey, AnvilChain.Genesis(["alice", "bob"]), ct);
            await ledger.SubmitAsync(Sign("alice", Pay(0, 10)), ct);

            await first.StopAsync(ct);
            Assert.True(File.Exists(state), "anvil wrote no state on a graceful stop");
            var submit = ledger.SubmitAsync(Sign("alice", Pay(1, 5)), ct);
            // Nobody answers on that port now: the submission can only wait, not land and not fail.
            Assert.False(submit.IsCompleted);

            second = await AnvilNode.StartAsync(AnvilChain.ChainId, first.Rpc.Port, state, cancellationToken: ct);
            var receipt = await submit.WaitAsync(TimeSpan.FromSeconds(90), ct);
            Assert.Equal(Pay(1, 5).Digest(AnvilChain.ChainId), receipt.Id);
            Assert.Equal(2UL, await ledger.GetNonceAsync(A("alice"), ct));
            Assert.Equal(Tokens.Whole(985), await ledger.GetBalanceAsync(A("alice"), ct));
            Assert.Equal(Tokens.Whole(1_015), await ledger.GetBalanceAsync(A("bob"), ct));
            // The restarted chain still refuses the first transfer's replay.
            var replay = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(Sign("alice", Pay(0, 10)), ct));
            Assert.Equal(LedgerError.BadNonce, replay.Code);
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_submission_returns_only_once_its_block_has_the_confirmations_asked_for()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new EvmLedgerOptions { Confirmations = 3 };
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["alice", "bob"]), options, ct);
        var submit = ledger.SubmitAsync(Sign("alice", Pay(0, 1)), ct);
        for (var i = 0; i < 600 && await ledger.GetNonceAsync(A("alice"), ct) == 0; i++)
        {
            await Task.Delay(50, ct);
        }
        Assert.Equal(1UL, await ledger.GetNonceAsync(A("alice"), ct));
        // Applied in a block, but nothing is mined on top of it (Anvil mines only for transactions): not yet confirmed.
        Assert.False(submit.IsCompleted);
        await chain.Node.MineAsync(2, ct);
        var receipt = await submit.WaitAsync(TimeSpan.FromSeconds(60), ct);
        Assert.True((await ledger.GetStatusAsync(ct)).Height >= receipt.BlockHeight + 2);
    }

    [Fact]
    public async Task A_ledger_opened_to_read_reads_everything_and_refuses_to_submit_and_a_wrong_contract_is_named()
    {
        var ct = TestContext.Current.CancellationToken;
        var genesis = AnvilChain.Genesis(["alice", "bob"]);
        await using var deployed = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, ct);
        await using var reader = await EvmLedger.ReadAsync(chain.Node.Rpc, deployed.ContractAddress, cancellationToken: ct);
        Assert.Null(reader.Relayer);
        Assert.Equal(deployed.TasksAddress, reader.TasksAddress, ignoreCase: true);
        Assert.Equal(Tokens.Whole(1_000), await reader.GetBalanceAsync(A("alice"), ct));
        // The settlement's parameters are the genesis', read back from the tasks contract.
        Assert.Equal(genesis.Params.Incentives, await reader.GetIncentivesAsync(ct));
        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.SubmitAsync(Sign("alice", Pay(0, 1)), ct));
        Assert.Contains("read only", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, await reader.GetNonceAsync(A("alice"), ct));

        var nothing = await Assert.ThrowsAsync<ArgumentException>(() => EvmLedger.ReadAsync(chain.Node.Rpc, "0x2222222222222222222222222222222222222222", cancellationToken: ct));
        Assert.StartsWith("contract: no contract at 0x2222222222222222222222222222222222222222", nothing.Message, StringComparison.Ordinal);
        // The tasks contract is code, but not a SkeinLedger.
        var other = await Assert.ThrowsAsync<ArgumentException>(() => EvmLedger.ReadAsync(chain.Node.Rpc, deployed.TasksAddress, cancellationToken: ct));
        Assert.Contains("is not a SkeinLedger", other.Message, StringComparison.Ordinal);
        var malformed = await Assert.ThrowsAsync<ArgumentException>(() => EvmLedger.ReadAsync(chain.Node.Rpc, "0x12", cancellationToken: ct));
        Assert.Contains("is not an address", malformed.Message, StringComparison.Ordinal);
    }
}
