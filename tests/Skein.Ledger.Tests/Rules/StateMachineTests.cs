using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

public sealed class StateMachineTests
{
    [Fact]
    public void Transfers_move_tokens_and_advance_the_nonce()
    {
        var c = new TestChain("alice", "bob");
        c.Do("alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(10) });
        Assert.Equal(Tokens.Whole(990), c.State.BalanceOf(c["alice"]));
        Assert.Equal(Tokens.Whole(1_010), c.State.BalanceOf(c["bob"]));
        Assert.Equal(1UL, c.State.NonceOf(c["alice"]));
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void Insufficient_balance_is_refused_naming_the_balance()
    {
        var c = new TestChain("alice", "bob");
        var ex = c.Refused(LedgerError.InsufficientBalance, "alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(1_001) });
        Assert.Contains("balance:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1000", ex.Message, StringComparison.Ordinal);
        c.Refused(LedgerError.InvalidAmount, "alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = 0 });
    }

    [Fact]
    public void A_forged_signature_is_refused()
    {
        var c = new TestChain("alice", "bob", "mallory");
        // Mallory signs a transfer out of Alice's account.
        var theft = new Transfer { From = c["alice"], Nonce = 0, To = c["mallory"], Amount = Tokens.Whole(500) };
        var forged = new SignedTransaction(theft, c.KeyOf("mallory").Sign(theft.Digest(TestChain.ChainId)));
        var ex = c.Refused(LedgerError.BadSignature, forged);
        Assert.Contains("signature:", ex.Message, StringComparison.Ordinal);

        // A valid signature over a different amount does not carry over.
        var signed = c.Sign("alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(1) });
        c.Refused(LedgerError.BadSignature, signed with { Tx = (Transfer)signed.Tx with { Amount = Tokens.Whole(900) } });

        var flipped = (byte[])signed.Signature.Clone();
        flipped[5] ^= 1;
        c.Refused(LedgerError.BadSignature, signed with { Signature = flipped });
    }

    [Fact]
    public void A_transaction_for_another_chain_is_refused()
    {
        var c = new TestChain("alice", "bob");
        var tx = new Transfer { From = c["alice"], Nonce = 0, To = c["bob"], Amount = Tokens.Whole(1) };
        var other = c.KeyOf("alice").SignTransaction(tx, TestChain.ChainId + 1);
        var ex = c.Refused(LedgerError.WrongChain, other with { ChainId = TestChain.ChainId + 1 });
        Assert.Contains($"chain {TestChain.ChainId + 1}", ex.Message, StringComparison.Ordinal);
        // Claiming this chain in the envelope does not help: the signature covers the chain id.
        c.Refused(LedgerError.BadSignature, other with { ChainId = TestChain.ChainId });
    }

    [Fact]
    public void A_replayed_nonce_is_refused()
    {
        var c = new TestChain("alice", "bob");
        var tx = c.Sign("alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(1) });
        StateMachine.Apply(c.State, tx, c.Context);
        var ex = c.Refused(LedgerError.BadNonce, tx);
        Assert.Contains("replayed", ex.Message, StringComparison.Ordinal);
        var ahead = c.KeyOf("alice").SignTransaction(new Transfer { From = c["alice"], Nonce = 5, To = c["bob"], Amount = 1 }, TestChain.ChainId);
        Assert.Contains("ahead", c.Refused(LedgerError.BadNonce, ahead).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unstaked_tokens_return_after_the_unbonding_period()
    {
        var c = new TestChain("alice");
        c.Do("alice", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        c.Do("alice", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(40) });
        Assert.Equal(Tokens.Whole(60), c.State.StakeOf(c["alice"], Role.Validator).Self);
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["alice"]));
        c.NextBlock();
        c.NextBlock();
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["alice"]));
        c.NextBlock(); // unbonding period 3
        Assert.Equal(Tokens.Whole(940), c.State.BalanceOf(c["alice"]));
        Assert.True(c.State.SupplyIsConserved());
        var ex = c.Refused(LedgerError.InsufficientStake, "alice", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(61) });
        Assert.Contains("stake", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Delegations_add_to_the_operator_and_unbond()
    {
        var c = new TestChain("alice", "dave");
        c.Do("dave", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["alice"], Role = Role.Trainer, Amount = Tokens.Whole(50) });
        Assert.Equal(Tokens.Whole(50), c.State.StakeOf(c["alice"], Role.Trainer).Delegated);
        c.Refused(LedgerError.InsufficientStake, "dave", (f, n) => new UndelegateStake { From = f, Nonce = n, Operator = c["alice"], Role = Role.Trainer, Amount = Tokens.Whole(51) });
        c.Refused(LedgerError.InvalidParameter, "alice", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["alice"], Role = Role.Trainer, Amount = 1 });
        c.Do("dave", (f, n) => new UndelegateStake { From = f, Nonce = n, Operator = c["alice"], Role = Role.Trainer, Amount = Tokens.Whole(50) });
        Assert.Equal(UInt128.Zero, c.State.StakeOf(c["alice"], Role.Trainer).Delegated);
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void Tasks_escrow_their_pool_and_check_their_fields()
    {
        var c = new TestChain("carol");
        c.Do("carol", (f, n) => TestRound.Task(f, n, pool: 300, rounds: 3));
        Assert.Equal(Tokens.Whole(700), c.State.BalanceOf(c["carol"]));
        Assert.Equal(Tokens.Whole(300), c.State.Tasks[1].Escrow);
        Assert.Contains("rounds:", c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => TestRound.Task(f, n, rounds: 0)).Message, StringComparison.Ordinal);
        Assert.Contains("reject_below:", c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => TestRound.Task(f, n) with { RejectBelow = 2_000_000 }).Message, StringComparison.Ordinal);
        Assert.Contains("spec_hash:", c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => TestRound.Task(f, n) with { SpecHash = Hash32.Zero }).Message, StringComparison.Ordinal);
        Assert.Contains("reward pool", c.Refused(LedgerError.InsufficientBalance, "carol", (f, n) => TestRound.Task(f, n, pool: 5_000)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Joining_needs_a_known_task_and_enough_stake()
    {
        var c = new TestChain("carol", "tom");
        c.Do("carol", (f, n) => TestRound.Task(f, n, minStake: 10));
        c.Refused(LedgerError.UnknownTask, "tom", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 9, Role = Role.Trainer });
        var ex = c.Refused(LedgerError.InsufficientStake, "tom", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        Assert.Contains("requires a Trainer stake of 10", ex.Message, StringComparison.Ordinal);
        c.Do("tom", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(10) });
        c.Do("tom", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        Assert.Contains(c["tom"], c.State.Tasks[1].Trainers);
    }
}
