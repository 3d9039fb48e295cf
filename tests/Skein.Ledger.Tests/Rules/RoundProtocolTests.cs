using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

public sealed class RoundProtocolTests
{
    // t3 submits a bad update: every validator scores it below the task's reject_below (500,000 ppm).
    private static readonly ulong[] Honest = [900_000, 880_000, 100_000];

    [Fact]
    public void A_full_round_pays_honest_work_and_slashes_the_rest()
    {
        var c = TestRound.Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        var round = c.State.Tasks[1].RoundStates[1];
        Assert.Equal(3, round.PickedTrainers.Count);
        Assert.Equal(3, round.PickedValidators.Count);
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Submit(c, "t2", 1, 2);
        TestRound.Submit(c, "t3", 1, 3);
        TestRound.Close(c, 1, training: true);
        TestRound.Commit(c, "v1", 1, Honest);
        TestRound.Commit(c, "v2", 1, [890_000, 870_000, 120_000]);
        TestRound.Commit(c, "v3", 1, Honest);
        TestRound.Close(c, 1, training: false);
        TestRound.Reveal(c, "v1", 1, Honest);
        TestRound.Reveal(c, "v2", 1, [890_000, 870_000, 120_000]);
        // v3 never reveals.
        var before = c.State.TotalHeld();
        TestRound.Finalize(c, 1, TestRound.Hash(11));

        Assert.Equal(RoundPhase.Settled, round.Phase);
        Assert.Equal([true, true, false], round.Outcomes.Select(o => o.Accepted));
        Assert.True(c.State.BalanceOf(c["t1"]) > Tokens.Whole(900), "t1 earned nothing");
        Assert.True(c.State.BalanceOf(c["t2"]) > Tokens.Whole(900), "t2 earned nothing");
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["t3"]));
        Assert.True(c.State.StakeOf(c["t3"], Role.Trainer).Self < Tokens.Whole(100), "t3 was not slashed");
        Assert.True(c.State.StakeOf(c["v3"], Role.Validator).Self < Tokens.Whole(100), "v3 was not slashed for not revealing");
        Assert.True(c.State.BalanceOf(c["v1"]) > Tokens.Whole(700), "v1 earned nothing");
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["v3"]));
        Assert.True(c.State.Burned > 0);
        Assert.True(c.State.SupplyIsConserved());
        Assert.Equal(before + c.State.Emitted - c.State.Burned, c.State.TotalHeld());
        Assert.Contains(round.Movements, m => m.Account == c["t3"] && m.Kind == "trainer slash" && m.Reason.Contains("rejected", StringComparison.Ordinal));
        Assert.Equal(TestRound.Hash(11), c.State.Tasks[1].ModelHash);
    }

    [Fact]
    public void Only_the_coordinator_opens_and_rounds_go_in_order()
    {
        var c = TestRound.Setup();
        Assert.Contains("coordinator", c.Refused(LedgerError.NotCoordinator, "t1", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) }).Message, StringComparison.Ordinal);
        Assert.Contains("next round", c.Refused(LedgerError.RoundNotOpen, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 2, ModelHash = TestRound.Hash(0) }).Message, StringComparison.Ordinal);
        c.Refused(LedgerError.UnknownTask, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 7, Round = 1, ModelHash = TestRound.Hash(0) });
    }

    [Fact]
    public void Updates_are_refused_when_not_picked_repeated_or_late()
    {
        var c = TestRound.Setup();
        c.Refused(LedgerError.RoundNotOpen, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(5), Samples = 10 });
        TestRound.Open(c, 1, TestRound.Hash(0));
        c.Refused(LedgerError.NotPicked, "dave", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(5), Samples = 10 });
        TestRound.Submit(c, "t1", 1, 1);
        c.Refused(LedgerError.AlreadySubmitted, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(6), Samples = 10 });
        c.Refused(LedgerError.InvalidParameter, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(6), Samples = 0 });
        TestRound.Close(c, 1, training: true);
        var late = c.Refused(LedgerError.WrongPhase, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(6), Samples = 10 });
        Assert.Contains("late", late.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reveals_must_match_their_commitment_and_the_round_updates()
    {
        var c = TestRound.Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Submit(c, "t2", 1, 2);
        TestRound.Close(c, 1, training: true);
        TestRound.Commit(c, "v1", 1, [900_000, 800_000]);
        c.Refused(LedgerError.AlreadySubmitted, "v1", (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = 1, Commitment = TestRound.Hash(9) });
        c.Refused(LedgerError.WrongPhase, "v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = [1, 2], Salt = TestRound.Salt("v2") });
        TestRound.Close(c, 1, training: false);
        var mismatch = c.Refused(LedgerError.RevealMismatch, "v1", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = [900_000, 800_001], Salt = TestRound.Salt("v1") });
        Assert.Contains("commitment", mismatch.Message, StringComparison.Ordinal);
        var unknown = c.Refused(LedgerError.ScoreForUnknownUpdate, "v1", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = [900_000, 800_000, 5], Salt = TestRound.Salt("v1") });
        Assert.Contains("not in the round", unknown.Message, StringComparison.Ordinal);
        c.Refused(LedgerError.NotCommitted, "v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = [1, 2], Salt = TestRound.Salt("v2") });
        TestRound.Reveal(c, "v1", 1, [900_000, 800_000]);
    }

    [Fact]
    public void The_last_round_returns_unpaid_escrow_to_the_creator()
    {
        var c = TestRound.Setup();
        var model = TestRound.Hash(0);
        for (uint r = 1; r <= 3; r++)
        {
            TestRound.Open(c, r, model);
            TestRound.Submit(c, "t1", r, (int)r);
            TestRound.Close(c, r, training: true);
            TestRound.Close(c, r, training: false);
            model = TestRound.Hash(50 + (int)r);
            TestRound.Finalize(c, r, model);
        }
        // No validator revealed: nothing was paid, and the whole pool came back.
        Assert.True(c.State.Tasks[1].Completed);
        Assert.Equal(UInt128.Zero, c.State.Tasks[1].Escrow);
        Assert.Equal(Tokens.Whole(1_000), c.State.BalanceOf(c["carol"]));
        Assert.True(c.State.SupplyIsConserved());
        c.Refused(LedgerError.TaskCompleted, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 4, ModelHash = model });
    }

    [Fact]
    public void Selection_is_recomputable_from_the_seed()
    {
        var c = TestRound.Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        var round = c.State.Tasks[1].RoundStates[1];
        Assert.Equal(StateMachine.SelectionSeed(1, 1, c.Context.PreviousBlockHash), round.Seed);
        var eligible = c.State.Tasks[1].Trainers.ToArray();
        Assert.Equal(StateMachine.Pick(eligible, 3, round.Seed, "pick/trainers").Order(), round.PickedTrainers);
    }
}
