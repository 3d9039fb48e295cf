using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>SkeinLedger.sol on Anvil through <see cref="EvmLedger"/>: relayed signed transactions, and the refusals a chain invites.</summary>
public sealed class EvmLedgerTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private static SignedTransaction Sign(string who, Transaction tx, ulong chainId = AnvilChain.ChainId) => AnvilChain.Key(who).SignTransaction(tx, chainId);

    private static Skein.Ledger.Address A(string who) => AnvilChain.Key(who).Address;

    private async Task<EvmLedger> DeployAsync(params string[] names) =>
        await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(names), TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_relayed_transfer_moves_tokens_uses_the_nonce_and_keeps_the_supply()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await DeployAsync("alice", "bob");
        var receipt = await ledger.SubmitAsync(Sign("alice", new Transfer { From = A("alice"), Nonce = 0, To = A("bob"), Amount = Tokens.Whole(40) }), ct);

        Assert.Equal(Tokens.Whole(960), await ledger.GetBalanceAsync(A("alice"), ct));
        Assert.Equal(Tokens.Whole(1_040), await ledger.GetBalanceAsync(A("bob"), ct));
        Assert.Equal(1UL, await ledger.GetNonceAsync(A("alice"), ct));
        Assert.Equal(0UL, await ledger.GetNonceAsync(A("bob"), ct));
        var status = await ledger.GetStatusAsync(ct);
        Assert.Equal(Tokens.Whole(2_000), status.GenesisSupply);
        Assert.True(status.SupplyConserved);
        Assert.True(receipt.BlockHeight <= status.Height);
        Assert.Equal(new Transfer { From = A("alice"), Nonce = 0, To = A("bob"), Amount = Tokens.Whole(40) }.Digest(AnvilChain.ChainId), receipt.Id);
    }

    [Fact]
    public async Task Replays_other_chains_altered_fields_and_forged_senders_are_refused_with_the_embedded_ledgers_reasons_and_change_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await DeployAsync("alice", "bob", "mallory");
        var first = Sign("alice", new Transfer { From = A("alice"), Nonce = 0, To = A("bob"), Amount = Tokens.Whole(1) });
        await ledger.SubmitAsync(first, ct);

        async Task Refused(SignedTransaction tx, LedgerError code, string words)
        {
            var before = (await ledger.GetBalanceAsync(A("alice"), ct), await ledger.GetBalanceAsync(A("bob"), ct), await ledger.GetNonceAsync(A("alice"), ct));
            var refusal = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(tx, ct));
            Assert.Equal(code, refusal.Code);
            Assert.Contains(words, refusal.Message, StringComparison.Ordinal);
            Assert.Equal(before, (await ledger.GetBalanceAsync(A("alice"), ct), await ledger.GetBalanceAsync(A("bob"), ct), await ledger.GetNonceAsync(A("alice"), ct)));
        }

        await Refused(first, LedgerError.BadNonce, "nonce: 0 was already used");
        await Refused(Sign("alice", new Transfer { From = A("alice"), Nonce = 5, To = A("bob"), Amount = Tokens.Whole(1) }), LedgerError.BadNonce, "is ahead of");
        // Signed for chain 708: the domain separator differs, so the signature names someone else.
        await Refused(Sign("alice", new Transfer { From = A("alice"), Nonce = 1, To = A("bob"), Amount = Tokens.Whole(1) }, 708) with { ChainId = null },
            LedgerError.BadSignature, "signature: does not prove");
        // The same, stating its chain in the envelope: refused before the contract is asked.
        await Refused(Sign("alice", new Transfer { From = A("alice"), Nonce = 1, To = A("bob"), Amount = Tokens.Whole(1) }, 708) with { ChainId = 708 },
            LedgerError.WrongChain, "chain_id: the transaction is for chain 708");
        // A relayer that raises the amount, or redirects the payment, keeps the signature of another transaction.
        var honest = Sign("alice", new Transfer { From = A("alice"), Nonce = 1, To = A("bob"), Amount = Tokens.Whole(1) });
        await Refused(honest with { Tx = ((Transfer)honest.Tx) with { Amount = Tokens.Whole(900) } }, LedgerError.BadSignature, "signature");
        await Refused(honest with { Tx = ((Transfer)honest.Tx) with { To = A("mallory") } }, LedgerError.BadSignature, "signature");
        // Mallory signs a transfer with her key and names Alice as its sender.
        var forged = Sign("mallory", new Transfer { From = A("mallory"), Nonce = 1, To = A("mallory"), Amount = Tokens.Whole(1) });
        await Refused(forged with { Tx = ((Transfer)forged.Tx) with { From = A("alice") } }, LedgerError.BadSignature, "signature");
        await Refused(Sign("alice", new Transfer { From = A("alice"), Nonce = 1, To = A("bob"), Amount = Tokens.Whole(5_000) }), LedgerError.InsufficientBalance,
            "transfer needs 5000");
        await Refused(Sign("alice", new Transfer { From = A("alice"), Nonce = 1, To = A("bob"), Amount = 0 }), LedgerError.InvalidAmount, "amount: must be > 0");

        // The honest one still goes through afterwards: nothing above used its nonce.
        await ledger.SubmitAsync(honest, ct);
        Assert.Equal(2UL, await ledger.GetNonceAsync(A("alice"), ct));
    }

    [Fact]
    public async Task Stake_unstake_and_delegation_follow_the_rules_and_unbonded_tokens_return_after_the_unbonding_blocks()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await DeployAsync("val", "fan");
        await ledger.SubmitAsync(Sign("val", new Stake { From = A("val"), Nonce = 0, Role = Role.Validator, Amount = Tokens.Whole(100) }), ct);
        await ledger.SubmitAsync(Sign("val", new SetCommission { From = A("val"), Nonce = 1, CommissionBps = 500 }), ct);
        await ledger.SubmitAsync(Sign("fan", new DelegateStake { From = A("fan"), Nonce = 0, Operator = A("val"), Role = Role.Validator, Amount = Tokens.Whole(30) }), ct);

        var stake = await ledger.GetStakeAsync(A("val"), Role.Validator, ct);
        Assert.Equal((Tokens.Whole(100), Tokens.Whole(30), 500u), (stake.Self, stake.Delegated, stake.CommissionBps));
        Assert.Equal(Tokens.Whole(30), await ledger.GetDelegationAsync(A("fan"), A("val"), Role.Validator, ct));
        Assert.Equal(Tokens.Whole(130), (await ledger.GetStatusAsync(ct)).Staked);

        var refusal = await Assert.ThrowsAsync<LedgerException>(() =>
            ledger.SubmitAsync(Sign("val", new Unstake { From = A("val"), Nonce = 2, Role = Role.Validator, Amount = Tokens.Whole(101) }), ct));
        Assert.Equal(LedgerError.InsufficientStake, refusal.Code);
        refusal = await Assert.ThrowsAsync<LedgerException>(() =>
            ledger.SubmitAsync(Sign("val", new DelegateStake { From = A("val"), Nonce = 2, Operator = A("val"), Role = Role.Validator, Amount = 1 }), ct));
        Assert.Equal(LedgerError.InvalidParameter, refusal.Code);
        refusal = await Assert.ThrowsAsync<LedgerException>(() =>
            ledger.SubmitAsync(Sign("val", new SetCommission { From = A("val"), Nonce = 2, CommissionBps = 10_001 }), ct));
        Assert.Equal("commission_bps: must be <= 10000, got 10001", refusal.Message);

        await ledger.SubmitAsync(Sign("val", new Unstake { From = A("val"), Nonce = 2, Role = Role.Validator, Amount = Tokens.Whole(40) }), ct);
        await ledger.SubmitAsync(Sign("fan", new UndelegateStake { From = A("fan"), Nonce = 1, Operator = A("val"), Role = Role.Validator, Amount = Tokens.Whole(30) }), ct);
        var account = await ledger.GetAccountAsync(A("val"), ct);
        Assert.Equal(Tokens.Whole(900), account.Balance);
        Assert.Equal(Tokens.Whole(40), Assert.Single(account.Unbonding).Amount);
        Assert.Equal(Tokens.Whole(60), (await ledger.GetStakeAsync(A("val"), Role.Validator, ct)).Self);

        // Five blocks later (the genesis' unbonding period) the tokens are back, and spendable.
        await chain.Node.MineAsync(5, ct);
        Assert.Equal(Tokens.Whole(940), await ledger.GetBalanceAsync(A("val"), ct));
        Assert.Equal(Tokens.Whole(1_000), await ledger.GetBalanceAsync(A("fan"), ct));
        Assert.Empty((await ledger.GetAccountAsync(A("val"), ct)).Unbonding);
        await ledger.SubmitAsync(Sign("fan", new Transfer { From = A("fan"), Nonce = 2, To = A("val"), Amount = Tokens.Whole(1_000) }), ct);
        Assert.Equal(Tokens.Whole(1_940), await ledger.GetBalanceAsync(A("val"), ct));
        Assert.True((await ledger.GetStatusAsync(ct)).SupplyConserved);
    }
}
