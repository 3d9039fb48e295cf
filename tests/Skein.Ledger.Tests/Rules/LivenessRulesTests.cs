using CsCheck;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

/// <summary>Phase deadlines, closing by anyone staked after them, cancelling an abandoned task, handover and leaving, on the embedded state machine.</summary>
public sealed class LivenessRulesTests
{
    /// <summary>Short periods so that tests walk past them in a few blocks: train 5, commit 3, reveal 3, abandon 20.</summary>
    private static readonly LivenessParams Short = new(5, 3, 3, 20);

    private static readonly string[] Members = ["t1", "t2", "t3", "v1", "v2", "v3"];

    /// <summary><see cref="TestRound.Setup"/>'s task and members, on a chain with <see cref="Short"/> liveness rules.</summary>
    private static TestChain Setup() => TestRound.Setup(LedgerParams.Default with { UnbondingBlocks = 3, Liveness = Short }, "dave", "erin");

    private static void Blocks(TestChain c, ulong count)
    {
        for (var i = 0UL; i < count; i++)
        {
            c.NextBlock();
        }
    }

    private static Func<Address, ulong, Transaction> CloseTraining(uint round) => (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = round };

    private static Func<Address, ulong, Transaction> CloseCommits(uint round) => (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = round };

    private static Func<Address, ulong, Transaction> Finalize(uint round, Hash32 model) => (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = round, NewModelHash = model };

    private static Func<Address, ulong, Transaction> Cancel() => (f, n) => new CancelTask { From = f, Nonce = n, TaskId = 1 };

    [Fact]
    public void Each_phase_records_its_deadline_and_after_it_any_staked_member_closes_it()
    {
        var c = Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        var round = c.State.Tasks[1].RoundStates[1];
        Assert.Equal(c.State.MarketHeight + Short.TrainingBlocks, round.Deadline);
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Submit(c, "t2", 1, 2);

        // Before the deadline only the coordinator may close, and a refusal changes nothing.
        Blocks(c, Short.TrainingBlocks - 1);
        var early = c.Refused(LedgerError.NotYetDue, "t1", CloseTraining(1));
        Assert.Contains($"deadline at market height {round.Deadline}", early.Message, StringComparison.Ordinal);
        c.NextBlock();
        // After it, a stranger with no stake still may not; a staked member may.
        Assert.Contains("neither task 1's creator nor a member", c.Refused(LedgerError.NotMember, "dave", CloseTraining(1)).Message, StringComparison.Ordinal);
        c.Do("t3", CloseTraining(1));
        Assert.Equal(RoundPhase.Committing, round.Phase);
        Assert.Equal(c.State.MarketHeight + Short.CommitBlocks, round.Deadline);
        Assert.Equal(LedgerError.WrongPhase, c.Refused(LedgerError.WrongPhase, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(109), Samples = 1 }).Code);

        ulong[] scores = [800_000, 700_000];
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Commit(c, v, 1, scores);
        }
        Blocks(c, Short.CommitBlocks);
        c.Do("v3", CloseCommits(1));
        TestRound.Reveal(c, "v1", 1, scores);
        TestRound.Reveal(c, "v2", 1, scores);
        Blocks(c, Short.RevealBlocks);
        // The creator is staked in nothing but may close, too; here a trainer settles the round.
        c.Do("t2", Finalize(1, TestRound.Hash(7)));
        Assert.Equal(RoundPhase.Settled, round.Phase);
        Assert.Equal(0UL, round.Deadline);
        Assert.All(round.Outcomes, o => Assert.True(o.Accepted));
        // v3 committed and did not reveal: slashed as the rules already say, whoever settled.
        Assert.Contains(round.Movements, m => m.Account == c["v3"] && m.Kind == "validator slash");
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void An_abandoned_task_is_cancelled_by_anyone_once_its_pool_back_and_every_stake_free()
    {
        var c = Setup();
        var creatorBefore = c.State.BalanceOf(c["carol"]);
        // Round 1 settles normally; round 2 stalls in training.
        TestRound.Open(c, 1, TestRound.Hash(0));
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Close(c, 1, training: true);
        ulong[] scores = [900_000];
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Commit(c, v, 1, scores);
        }
        TestRound.Close(c, 1, training: false);
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Reveal(c, v, 1, scores);
        }
        TestRound.Finalize(c, 1, TestRound.Hash(7));
        var t1Paid = c.State.BalanceOf(c["t1"]);
        c.NextBlock();
        TestRound.Open(c, 2, TestRound.Hash(7));
        var progress = c.State.MarketHeight;

        // Bound while the task lives: no member can unstake below its minimum.
        var bonded = c.Refused(LedgerError.StakeBonded, "v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(300) });
        Assert.Contains("bound to task 1", bonded.Message, StringComparison.Ordinal);
        Blocks(c, Short.AbandonBlocks - 1);
        var early = c.Refused(LedgerError.NotYetDue, "dave", Cancel());
        Assert.Contains($"made progress at market height {progress}", early.Message, StringComparison.Ordinal);
        c.NextBlock();
        var escrow = c.State.Tasks[1].Escrow;
        c.Do("dave", Cancel());

        var task = c.State.Tasks[1];
        Assert.True(task.Cancelled);
        Assert.Equal(UInt128.Zero, task.Escrow);
        Assert.Equal(escrow, task.Refunded);
        // The creator gets back exactly the escrow: rounds 2 and 3's shares whole, and what round 1 did not pay.
        Assert.Equal(creatorBefore + escrow, c.State.BalanceOf(c["carol"]));
        Assert.True(escrow >= task.RewardPool - task.PoolShare(1));
        Assert.Equal(t1Paid, c.State.BalanceOf(c["t1"]));
        Assert.True(c.State.SupplyIsConserved());
        // Every member may now take its whole stake out; nothing else happens on the task.
        foreach (var (who, role) in new[] { ("v1", Role.Validator), ("v2", Role.Validator), ("t1", Role.Trainer), ("t3", Role.Trainer) })
        {
            c.Do(who, (f, n) => new Unstake { From = f, Nonce = n, Role = role, Amount = c.State.StakeOf(f, role).Self });
            Assert.Equal(UInt128.Zero, c.State.StakeOf(c[who], role).Self);
        }
        Assert.Equal(LedgerError.TaskCancelled, c.Refused(LedgerError.TaskCancelled, "erin", Cancel()).Code);
        Assert.Equal(LedgerError.TaskCancelled, c.Refused(LedgerError.TaskCancelled, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 2, UpdateHash = TestRound.Hash(5), Samples = 1 }).Code);
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void Only_the_creator_hands_a_task_over_and_then_only_the_new_coordinator_drives_it()
    {
        var c = Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        Func<Address, ulong, Transaction> toDave = (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = c["dave"] };
        Assert.Contains("only task 1's creator", c.Refused(LedgerError.NotOwner, "t1", toDave).Message, StringComparison.Ordinal);
        c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = Address.Zero });
        c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = c["carol"] });
        // Mid-round: the new coordinator closes the phase the old one opened.
        c.Do("carol", toDave);
        Assert.Equal(c["dave"], c.State.Tasks[1].Coordinator);
        TestRound.Submit(c, "t1", 1, 1);
        c.Refused(LedgerError.NotYetDue, "carol", CloseTraining(1));
        c.Do("dave", CloseTraining(1));
        c.Do("dave", CloseCommits(1));
        c.Do("dave", Finalize(1, TestRound.Hash(0)));
        c.Refused(LedgerError.NotCoordinator, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 2, ModelHash = TestRound.Hash(0) });
        c.Do("dave", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 2, ModelHash = TestRound.Hash(0) });
        // The creator may take it back, or hand it on again.
        c.Do("carol", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = c["carol"] });
        c.Do("carol", CloseTraining(2));
    }

    [Fact]
    public void A_member_leaves_between_rounds_freely_and_mid_round_stays_bound_until_the_round_settles()
    {
        var c = Setup();
        c.Refused(LedgerError.NotMember, "dave", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        c.Refused(LedgerError.NotMember, "t1", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        // Between rounds: t3 leaves and unstakes at once.
        c.Do("t3", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        c.Do("t3", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        Assert.DoesNotContain(c["t3"], c.State.Tasks[1].Trainers);

        TestRound.Open(c, 1, TestRound.Hash(0));
        Assert.DoesNotContain(c["t3"], c.State.Tasks[1].RoundStates[1].PickedTrainers);
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Close(c, 1, training: true);
        ulong[] scores = [900_000];
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Commit(c, v, 1, scores);
        }
        // Mid-round: v2 leaves after committing; it stays bound to the round it was picked for.
        c.Do("v2", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        Assert.DoesNotContain(c["v2"], c.State.Tasks[1].Validators);
        c.Refused(LedgerError.StakeBonded, "v2", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(200) });
        TestRound.Close(c, 1, training: false);
        TestRound.Reveal(c, "v1", 1, scores);
        TestRound.Reveal(c, "v3", 1, scores);
        TestRound.Finalize(c, 1, TestRound.Hash(7));
        // Its missing reveal is slashed (5% of 200) as for anyone; then its stake is free.
        Assert.Equal(Tokens.Whole(190), c.State.StakeOf(c["v2"], Role.Validator).Self);
        c.Do("v2", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(190) });
        // A member may still take out what exceeds the task's minimum.
        c.Do("v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(290) - c.State.StakeOf(f, Role.Validator).Self + c.State.StakeOf(f, Role.Validator).Self });
        c.Refused(LedgerError.StakeBonded, "v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = 1 });
    }

    /// <summary>A random round: who submits, each validator's scores and whether it reveals.</summary>
    private sealed record RandomRound(bool[] Submits, ulong[][] Scores, bool[] Reveals);

    private static readonly Gen<RandomRound> Rounds =
        Gen.Select(Gen.Bool.Array[3], Gen.ULong[0, 1_000_000].Array[3].Array[3], Gen.Bool.Array[3])
            .Where((s, _, _) => s.Any(x => x))
            .Select((s, scores, reveals) => new RandomRound(s, scores, reveals));

    /// <summary>Walks round 1 of <paramref name="c"/> with <paramref name="r"/>, each phase closed one block after its deadline by <paramref name="closers"/>' members in turn.</summary>
    private static void Play(TestChain c, RandomRound r, string[] closers)
    {
        TestRound.Open(c, 1, TestRound.Hash(0));
        var trainers = new[] { "t1", "t2", "t3" }.Where((_, i) => r.Submits[i]).ToArray();
        foreach (var (t, i) in trainers.Select((t, i) => (t, i)))
        {
            TestRound.Submit(c, t, 1, i);
        }
        Blocks(c, Short.TrainingBlocks);
        c.Do(closers[0], CloseTraining(1));
        var validators = new[] { "v1", "v2", "v3" };
        for (var v = 0; v < 3; v++)
        {
            TestRound.Commit(c, validators[v], 1, r.Scores[v][..trainers.Length]);
        }
        Blocks(c, Short.CommitBlocks);
        c.Do(closers[1], CloseCommits(1));
        for (var v = 0; v < 3; v++)
        {
            if (r.Reveals[v])
            {
                TestRound.Reveal(c, validators[v], 1, r.Scores[v][..trainers.Length]);
            }
        }
        Blocks(c, Short.RevealBlocks);
        c.Do(closers[2], Finalize(1, TestRound.Hash(7)));
    }

    /// <summary>Every balance and stake but nonces: what a settlement decides.</summary>
    private static string Settlement(TestChain c)
    {
        var round = c.State.Tasks[1].RoundStates[1];
        var accounts = string.Join(";", c.State.Accounts.Select(a => $"{a.Key}={a.Value.Balance}"));
        var stakes = string.Join(";", c.State.Stakes.Select(s => $"{s.Key}={s.Value.Self}+{s.Value.Delegated}"));
        var outcomes = string.Join(";", round.Outcomes.Select(o => $"{o.Trainer}:{o.ConsensusScore}:{o.Accepted}:{o.Reward}"));
        var movements = string.Join(";", round.Movements.Select(m => $"{m.Account}:{m.Kind}:{m.Amount}"));
        return $"{accounts}|{stakes}|{outcomes}|{movements}|{c.State.Tasks[1].Escrow}|{c.State.Emitted}|{c.State.Burned}|{c.State.Treasury}";
    }

    [Fact]
    public void Whoever_closes_each_phase_the_settlement_is_the_same()
    {
        string[] anyone = ["carol", .. Members];
        var closers = Gen.Int[0, anyone.Length - 1].Select(i => anyone[i]).Array[3];
        Gen.Select(Rounds, closers).Sample((r, who) =>
        {
            var byCoordinator = Setup();
            Play(byCoordinator, r, ["carol", "carol", "carol"]);
            var byOthers = Setup();
            Play(byOthers, r, who);
            Assert.Equal(Settlement(byCoordinator), Settlement(byOthers));
            Assert.True(byOthers.State.SupplyIsConserved());
        }, iter: 60);
    }

    [Fact]
    public void Cancelling_never_pays_anyone_twice()
    {
        // Settle 0..2 rounds, stall the next one in a random phase, cancel; then every payout and the refund add up once.
        string[] cancellers = ["dave", "erin", .. Members];
        Gen.Select(Rounds, Gen.Int[0, 2], Gen.Int[0, 3], Gen.Int[0, cancellers.Length - 1].Select(i => cancellers[i])).Sample((r, settled, stallAt, canceller) =>
        {
            var c = Setup();
            var creatorBefore = c.State.BalanceOf(c["carol"]);
            for (var k = 1u; k <= settled; k++)
            {
                PlayRound(c, k, r);
                c.NextBlock();
            }
            var paidBefore = Paid(c);
            if (stallAt > 0)
            {
                var next = (uint)settled + 1;
                c.Do("carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = next, ModelHash = c.State.Tasks[1].ModelHash });
                if (stallAt > 1)
                {
                    TestRound.Submit(c, "t1", next, 50);
                    c.Do("carol", CloseTraining(next));
                }
                if (stallAt > 2)
                {
                    TestRound.Commit(c, "v1", next, [1]);
                    c.Do("carol", CloseCommits(next));
                }
            }
            var balancesBefore = c.State.Accounts.ToDictionary(a => a.Key, a => a.Value.Balance);
            var escrow = c.State.Tasks[1].Escrow;
            Blocks(c, Short.AbandonBlocks);
            c.Do(canceller, Cancel());
            c.Refused(LedgerError.TaskCancelled, canceller, Cancel());
            c.Refused(LedgerError.TaskCancelled, "carol", Cancel());
            // Only the creator's balance moved, by exactly the escrow; no round paid anything more.
            foreach (var (account, held) in c.State.Accounts)
            {
                Assert.Equal(balancesBefore.GetValueOrDefault(account) + (account == c["carol"] ? escrow : UInt128.Zero), held.Balance);
            }
            Assert.Equal(paidBefore, Paid(c));
            // The whole pool is accounted for once: paid out by settled rounds (from its shares), or refunded.
            var task = c.State.Tasks[1];
            Assert.Equal(UInt128.Zero, task.Escrow);
            Assert.Equal(escrow, task.Refunded);
            Assert.True(c.State.SupplyIsConserved());
            Assert.True(c.State.BalanceOf(c["carol"]) - creatorBefore <= task.RewardPool);
        }, iter: 60);
    }

    private static void PlayRound(TestChain c, uint k, RandomRound r)
    {
        c.Do("carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = k, ModelHash = c.State.Tasks[1].ModelHash });
        var trainers = new[] { "t1", "t2", "t3" }.Where((_, i) => r.Submits[i]).ToArray();
        foreach (var (t, i) in trainers.Select((t, i) => (t, i)))
        {
            c.Do(t, (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = k, UpdateHash = TestRound.Hash((int)(k * 10) + i), Samples = 600 });
        }
        c.Do("carol", CloseTraining(k));
        var validators = new[] { "v1", "v2", "v3" };
        for (var v = 0; v < 3; v++)
        {
            TestRound.Commit(c, validators[v], k, r.Scores[v][..trainers.Length]);
        }
        c.Do("carol", CloseCommits(k));
        for (var v = 0; v < 3; v++)
        {
            if (r.Reveals[v])
            {
                TestRound.Reveal(c, validators[v], k, r.Scores[v][..trainers.Length]);
            }
        }
        c.Do("carol", Finalize(k, TestRound.Hash(70 + (int)k)));
    }

    /// <summary>Every reward movement of every round of task 1, in order.</summary>
    private static string Paid(TestChain c) => string.Join(";", c.State.Tasks[1].RoundStates.Values.SelectMany(r => r.Movements).Select(m => $"{m.Account}:{m.Kind}:{m.Amount}"));
}
