using CsCheck;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

/// <summary>Tournament tasks on the embedded state machine: creation, submission limits, windows, rank settlement, copies slashed.</summary>
public sealed class TournamentRulesTests
{
    private static readonly string[] Trainers = ["t1", "t2", "t3", "t4"];
    private static readonly string[] Validators = ["v1", "v2", "v3"];

    private static CreateTournament Tournament(Address from, ulong nonce, ulong pool = 300, uint windows = 3, uint submissions = 2, uint decay = 5_000, uint floor = 2_000) => new()
    {
        From = from,
        Nonce = nonce,
        SpecHash = TestRound.Hash(1),
        RewardPool = Tokens.Whole(pool),
        Windows = windows,
        MinStake = Tokens.Whole(10),
        SubmissionsPerTrainer = submissions,
        ValidatorsPerRound = 3,
        RejectBelow = 250_000,
        DecayBps = decay,
        SideFloorBps = floor,
    };

    /// <summary>Coordinator carol, trainers t1..t4 (100 staked each) and validators v1..v3 (100 each), joined to tournament 1.</summary>
    private static TestChain Setup(uint submissions = 2)
    {
        var c = new TestChain(["carol", .. Trainers, .. Validators]);
        c.Do("carol", (f, n) => Tournament(f, n, submissions: submissions));
        foreach (var (name, role) in Trainers.Select(t => (t, Role.Trainer)).Concat(Validators.Select(v => (v, Role.Validator))))
        {
            c.Do(name, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(100) });
            c.Do(name, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = role });
        }
        c.NextBlock();
        return c;
    }

    private static void Submit(TestChain c, string trainer, uint window, int update) =>
        c.Do(trainer, (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = window, UpdateHash = TestRound.Hash(100 + update), Samples = 600 });

    private static void Score(TestChain c, uint window, params ulong[][] scores)
    {
        TestRound.Close(c, window, training: true);
        for (var v = 0; v < scores.Length; v++)
        {
            TestRound.Commit(c, Validators[v], window, scores[v]);
        }
        TestRound.Close(c, window, training: false);
        for (var v = 0; v < scores.Length; v++)
        {
            TestRound.Reveal(c, Validators[v], window, scores[v]);
        }
    }

    [Theory]
    [InlineData(0u, 5_000u, 2_000u, "windows")]
    [InlineData(3u, 0u, 2_000u, "decay_bps")]
    [InlineData(3u, 10_001u, 2_000u, "decay_bps")]
    [InlineData(3u, 5_000u, 5_001u, "side_floor_bps")]
    public void Creation_refuses_bad_rules_naming_the_field(uint windows, uint decay, uint floor, string field)
    {
        var c = new TestChain("carol");
        var ex = c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => Tournament(f, n, windows: windows, decay: decay, floor: floor));
        Assert.StartsWith(field + ":", ex.Message, StringComparison.Ordinal);
        ex = c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => Tournament(f, n, submissions: 0));
        Assert.StartsWith("submissions_per_trainer:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tournament_is_part_of_the_state_root()
    {
        var a = new TestChain("carol");
        var b = new TestChain("carol");
        a.Do("carol", (f, n) => Tournament(f, n, decay: 5_000));
        b.Do("carol", (f, n) => Tournament(f, n, decay: 6_000));
        Assert.NotEqual(StateHasher.Root(a.State), StateHasher.Root(b.State));
        Assert.Equal(new TournamentRules(2, 5_000, 2_000), a.State.Tasks[1].Tournament);
    }

    [Fact]
    public void Every_trainer_may_submit_up_to_the_limit_and_never_the_same_adapter_twice()
    {
        var c = Setup(submissions: 2);
        TestRound.Open(c, 1, TestRound.Hash(0));
        Assert.Equal(4, c.State.Tasks[1].RoundStates[1].PickedTrainers.Count);
        Submit(c, "t1", 1, 1);
        var again = c.Refused(LedgerError.AlreadySubmitted, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(101), Samples = 600 });
        Assert.StartsWith("update_hash:", again.Message, StringComparison.Ordinal);
        Submit(c, "t1", 1, 2);
        var third = c.Refused(LedgerError.AlreadySubmitted, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(103), Samples = 600 });
        Assert.Contains("submissions_per_trainer", third.Message, StringComparison.Ordinal);
        // Another trainer may submit the very same hash: that is a copy, for the validators to score 0.
        Submit(c, "t2", 1, 1);
        Assert.Equal(3, c.State.Tasks[1].RoundStates[1].Updates.Count);
    }

    [Fact]
    public void A_window_pays_by_rank_leaves_the_worse_than_base_unpaid_and_slashes_the_copier()
    {
        var c = Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        Submit(c, "t1", 1, 1); // best
        Submit(c, "t2", 1, 2); // second
        Submit(c, "t1", 1, 3); // t1's weaker second try: only its best ranks
        Submit(c, "t3", 1, 4); // worse than the base
        Submit(c, "t4", 1, 1); // t1's adapter, copied
        ulong[] honest = [640_000, 580_000, 560_000, 450_000, 0];
        Score(c, 1, honest, [650_000, 570_000, 555_000, 460_000, 0], honest);
        var held = c.State.TotalHeld();
        TestRound.Finalize(c, 1, TestRound.Hash(11));

        var round = c.State.Tasks[1].RoundStates[1];
        Assert.Equal([true, true, false, false, false], round.Outcomes.Select(o => o.Accepted));
        var t1 = round.Outcomes[0].Reward;
        var t2 = round.Outcomes[1].Reward;
        // Equal stakes, decay one half: the winner earns twice the runner-up (to the base unit).
        Assert.True(t1 > 0 && t2 > 0);
        Assert.True(t1 - (2 * t2) <= 1);
        Assert.Equal(Tokens.Whole(900) + t1, c.State.BalanceOf(c["t1"]));
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["t3"]));
        Assert.Equal(Tokens.Whole(100), c.State.StakeOf(c["t3"], Role.Trainer).Self);
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["t4"]));
        Assert.True(c.State.StakeOf(c["t4"], Role.Trainer).Self < Tokens.Whole(100), "the copier was not slashed");
        Assert.Contains(round.Movements, m => m.Account == c["t4"] && m.Kind == "trainer slash");
        Assert.Contains(round.Movements, m => m.Account == c["t1"] && m.Reason.Contains("window 1: ranked submission", StringComparison.Ordinal));
        // Trainers t1, t2 ranked (200 staked) against 300 of validators: 40% to trainers.
        var reward = round.Reward;
        var validatorsPaid = Validators.Aggregate(UInt128.Zero, (s, v) => s + c.State.BalanceOf(c[v]) - Tokens.Whole(900));
        var trainerPool = Tokens.MulDiv(reward, 4_000, 10_000);
        Assert.True(t1 + t2 <= trainerPool && trainerPool - t1 - t2 < 2, "the trainers' side was not 40% of the reward");
        Assert.True(reward - trainerPool - validatorsPaid < 3, "the validators' side was not paid out");
        Assert.True(c.State.SupplyIsConserved());
        Assert.Equal(held + c.State.Emitted - c.State.Burned, c.State.TotalHeld());
    }

    [Fact]
    public void Resubmitting_an_earlier_windows_winner_of_another_trainer_is_slashed_as_a_copy_by_the_ledger_itself()
    {
        var c = Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        Submit(c, "t1", 1, 1);
        Score(c, 1, [620_000], [620_000], [620_000]);
        TestRound.Finalize(c, 1, TestRound.Hash(11));
        TestRound.Open(c, 2, TestRound.Hash(0));
        Submit(c, "t2", 2, 1); // t1's window-1 adapter, byte for byte
        Submit(c, "t1", 2, 1); // t1 may enter its own again
        // Validators that do not look back at earlier windows score both as good.
        Score(c, 2, [620_000, 620_000], [620_000, 620_000], [620_000, 620_000]);
        TestRound.Finalize(c, 2, TestRound.Hash(12));

        var window = c.State.Tasks[1].RoundStates[2];
        Assert.Equal([false, true], window.Outcomes.Select(o => o.Accepted));
        Assert.Equal(UInt128.Zero, window.Outcomes[0].Reward);
        Assert.Contains(window.Movements, m => m.Account == c["t2"] && m.Kind == "trainer slash" && m.Reason.Contains("copy of an earlier submission", StringComparison.Ordinal));
        Assert.DoesNotContain(window.Movements, m => m.Account == c["t1"] && m.Kind == "trainer slash");
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void Later_windows_start_from_the_first_windows_model()
    {
        var c = Setup();
        TestRound.Open(c, 1, TestRound.Hash(0));
        Submit(c, "t1", 1, 1);
        Score(c, 1, [600_000], [600_000], [600_000]);
        TestRound.Finalize(c, 1, TestRound.Hash(11));
        var ex = c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 2, ModelHash = TestRound.Hash(11) });
        Assert.StartsWith("model_hash:", ex.Message, StringComparison.Ordinal);
        TestRound.Open(c, 2, TestRound.Hash(0));
        Assert.Equal(RoundPhase.Training, c.State.Tasks[1].RoundStates[2].Phase);
    }

    /// <summary>Any window: random submissions (some copies), random scores and stakes; supply is conserved and the window's reward is paid or returned exactly.</summary>
    [Fact]
    public void Supply_is_conserved_and_every_window_reward_is_accounted_for() =>
        Gen.Select(Gen.Int[0, 3].Array[0, 8], Gen.ULong[0, 1_000_000].Array[8], Gen.Int[10, 300].Array[4], Gen.UInt[1, 10_000])
            .Sample((submitters, scores, stakes, decay) =>
            {
                var c = new TestChain(["carol", .. Trainers, .. Validators]);
                c.Do("carol", (f, n) => Tournament(f, n, windows: 1, submissions: 3, decay: decay));
                for (var t = 0; t < Trainers.Length; t++)
                {
                    var stake = Tokens.Whole((ulong)stakes[t]);
                    c.Do(Trainers[t], (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = stake });
                    c.Do(Trainers[t], (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
                }
                foreach (var v in Validators)
                {
                    c.Do(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
                    c.Do(v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
                }
                c.NextBlock();
                TestRound.Open(c, 1, TestRound.Hash(0));
                var submitted = 0;
                foreach (var t in submitters)
                {
                    try
                    {
                        // Hashes repeat across trainers: copies.
                        Submit(c, Trainers[t], 1, submitted % 3);
                        submitted++;
                    }
                    catch (LedgerException)
                    {
                        // over the limit or the same adapter twice: refused, nothing changes
                    }
                }
                var perValidator = Validators.Select((_, v) => scores.Take(submitted).Select(s => (s + ((ulong)v * 7_919)) % 1_000_001).ToArray()).ToArray();
                Score(c, 1, perValidator);
                var escrowBefore = c.State.Tasks[1].Escrow;
                var held = c.State.TotalHeld();
                TestRound.Finalize(c, 1, TestRound.Hash(11));
                var round = c.State.Tasks[1].RoundStates[1];
                var paid = round.Movements.Where(m => m.Kind.EndsWith("reward", StringComparison.Ordinal)).Aggregate(UInt128.Zero, (s, m) => s + m.Amount);
                var refund = round.Movements.Where(m => m.Kind == "refund").Aggregate(UInt128.Zero, (s, m) => s + m.Amount);
                var rewardsByOutcome = round.Outcomes.Aggregate(UInt128.Zero, (s, o) => s + o.Reward);
                var trainerPaid = round.Movements.Where(m => m.Kind == "trainer reward").Aggregate(UInt128.Zero, (s, m) => s + m.Amount);
                // The only window returns what it did not pay: escrow + minted emission = paid + refund (no treasury share by default).
                return c.State.SupplyIsConserved()
                    && c.State.TotalHeld() == held + c.State.Emitted - c.State.Burned
                    && escrowBefore + c.State.Emitted == paid + refund
                    && rewardsByOutcome == trainerPaid
                    && round.Outcomes.Where(o => o.Reward > 0).Select(o => o.Trainer).Distinct().Count() == round.Outcomes.Count(o => o.Reward > 0);
            }, iter: 150);
}
