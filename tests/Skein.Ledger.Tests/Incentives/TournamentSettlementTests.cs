using CsCheck;
using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary><see cref="TournamentSettlement"/>: the worked example of docs/incentives.md and properties over random windows.</summary>
public sealed class TournamentSettlementTests
{
    private static readonly TournamentRules Rules = new(2, 5_000, 2_000);

    [Fact]
    public void The_worked_example_of_the_docs_settles_exactly()
    {
        Address t1 = A(1), t2 = A(2), t3 = A(3), t4 = A(4), t5 = A(5), v1 = A(0x11), v2 = A(0x12), v3 = A(0x13);
        UpdateInfo[] submissions = [new(t1, 1), new(t2, 1), new(t1, 1), new(t3, 1), new(t4, 1), new(t5, 1)];
        ulong[] agreed = [600_000, 580_000, 550_000, 580_000, 0, 480_000];
        var input = Input(submissions,
            [new(v1, 300, agreed), new(v2, 200, agreed), new(v3, 100, [590_000, 580_000, 550_000, 580_000, 0, 480_000])],
            reward: 10_000, rejectBelow: 250_000);

        var r = TournamentSettlement.Compute(input, Rules, [100, 100, 100, 200, 100, 100]);

        Assert.Equal([600_000UL, 580_000, 550_000, 580_000, 0, 480_000], r.Verdicts.Select(v => v.ConsensusScore));
        Assert.Equal([true, true, false, true, false, false], r.Verdicts.Select(v => v.Accepted));
        Assert.Equal((UInt128)4_000, r.TrainerPool);
        Assert.Equal((UInt128)6_000, r.ValidatorPool);
        Assert.Equal([(UInt128)1_882, 705, 0, 1_411, 0, 0], r.Verdicts.Select(v => v.Reward));
        Assert.Equal((UInt128)1_882, r.TrainerRewards[t1]);
        Assert.Equal([t1, t2, t3], r.TrainerRewards.Keys);
        Assert.Equal(9_166u, r.AgreementBps[v3]);
        Assert.Equal([(UInt128)3_042, 2_028, 929], new[] { v1, v2, v3 }.Select(v => r.ValidatorRewards[v]));
        Assert.Equal([t4], r.SlashedTrainers);
        Assert.Equal((UInt128)3, r.Undistributed);
        Assert.Equal((UInt128)3, r.ReturnedToEscrow);
    }

    [Theory]
    [InlineData(0UL, 0UL, 2_000u, 5_000u)]
    [InlineData(400UL, 600UL, 2_000u, 4_000u)]
    [InlineData(100UL, 900UL, 2_000u, 2_000u)]
    [InlineData(900UL, 100UL, 2_000u, 8_000u)]
    [InlineData(1UL, 0UL, 0u, 10_000u)]
    [InlineData(1UL, 0UL, 5_000u, 5_000u)]
    public void The_sides_split_by_stake_within_the_floors(ulong trainers, ulong validators, uint floor, uint expected) =>
        Assert.Equal(expected, TournamentSettlement.TrainerShareBps(trainers, validators, floor));

    private static readonly Gen<(UpdateInfo[] Updates, ValidatorReveal[] Reveals, UInt128[] Stakes, UInt128 Reward, UInt128 Emission, TournamentRules Rules)> Window =
        Gen.Int[0, 8].SelectMany(n => Gen.Select(
            Gen.Byte[1, 4].Array[n],
            Gen.Select(Gen.Byte[0x10, 0x13], Gen.UInt128[0, Tok(1_000)], Gen.Frequency((3, (IGen<ulong>)Gen.OneOf(0UL, 480_000UL, 500_000UL, 580_000UL, 600_000UL)), (1, Gen.ULong[0, 1_000_000])).Array[n])
                .Array[0, 4],
            Gen.UInt128[0, Tok(500)].Array[n],
            Gen.UInt128[0, Tok(10_000)],
            Gen.Double[0, 1],
            Gen.Select(Gen.UInt[1, 3], Gen.UInt[1, 10_000], Gen.UInt[0, 5_000], (s, d, f) => new TournamentRules(s, d, f)),
            (who, votes, stakes, reward, emissionShare, rules) =>
            {
                var reveals = votes.DistinctBy(v => v.Item1).Select(v => new ValidatorReveal(A(v.Item1), v.Item2, v.Item3)).ToArray();
                var updates = who.Select(w => new UpdateInfo(A(w), 1)).ToArray();
                // A trainer's stake is the same on each of its submissions.
                var byTrainer = who.Distinct().ToDictionary(w => w, w => stakes[Array.IndexOf(who, w)]);
                return (updates, reveals, who.Select(w => byTrainer[w]).ToArray(), reward, (UInt128)(ulong)((double)(ulong)(reward / Tokens.One) * emissionShare) * Tokens.One, rules);
            }));

    [Fact]
    public void Payouts_and_returns_are_the_window_reward_exactly_and_only_a_trainers_best_better_than_base_submission_earns() =>
        Window.Sample(w =>
        {
            var input = Input(w.Updates, w.Reveals, reward: w.Reward, rejectBelow: 250_000) with { EmissionPart = UInt128.Min(w.Emission, w.Reward) };
            var r = TournamentSettlement.Compute(input, w.Rules, w.Stakes);
            var paid = Sum(r.TrainerRewards.Values) + Sum(r.ValidatorRewards.Values);
            var earners = r.Verdicts.Where(v => v.Reward > 0).ToArray();
            return paid + r.Undistributed == w.Reward
                && r.TrainerPool + r.ValidatorPool == w.Reward
                && Sum(r.TrainerRewards.Values) <= r.TrainerPool
                && r.ReturnedToEscrow + input.EmissionPart - r.Minted == r.Undistributed
                && earners.All(v => v.Accepted && v.ConsensusScore > TournamentLimits.NeutralScore)
                && earners.Select(v => v.Trainer).Distinct().Count() == earners.Length
                && r.Verdicts.All(v => !v.Accepted || r.Verdicts.Where(o => o.Trainer == v.Trainer).All(o => o.ConsensusScore <= v.ConsensusScore))
                && Sum(r.Verdicts.Select(v => v.Reward)) == Sum(r.TrainerRewards.Values)
                && r.SlashedTrainers.All(t => r.Verdicts.Any(v => v.Trainer == t && v.Rejected));
        });

    [Fact]
    public void An_exact_copy_is_rejected_and_its_trainer_slashed_once_whatever_the_validators_score()
    {
        Address t1 = A(1), t2 = A(2), v1 = A(0x11);
        // The validators missed the copy and scored it as high as the original.
        var input = Input([new(t1, 1), new(t2, 1), new(t2, 1)], [new(v1, 100, [600_000, 600_000, 550_000])], reward: 1_000, rejectBelow: 250_000);

        var r = TournamentSettlement.Compute(input, Rules, [100, 100, 100], [false, true, false]);

        Assert.Equal([true, false, true], r.Verdicts.Select(v => v.Accepted));
        Assert.True(r.Verdicts[1].Rejected);
        Assert.Equal((UInt128)0, r.Verdicts[1].Reward);
        Assert.Equal([t2], r.Copiers);
        Assert.DoesNotContain(t2, r.SlashedTrainers);
        // t2's own honest submission still ranks, second.
        Assert.True(r.Verdicts[2].Reward > 0 && r.Verdicts[2].Reward < r.Verdicts[0].Reward);
    }

    [Fact]
    public void Exact_copies_are_later_submissions_of_an_earlier_hash_by_another_trainer_in_any_window()
    {
        Address a = A(1), b = A(2), c = A(3);
        var x = Skein.Ledger.Tests.Rules.TestRound.Hash(1);
        var y = Skein.Ledger.Tests.Rules.TestRound.Hash(2);
        var z = Skein.Ledger.Tests.Rules.TestRound.Hash(3);
        // a authored x in an earlier window; b copies it now; a resubmits its own x (no copy); y is b's, then c's.
        var copies = TournamentSettlement.ExactCopies([(a, x)], [(b, x), (a, x), (b, y), (c, y), (c, z)]);
        Assert.Equal([true, false, false, true, false], copies);
    }

    [Fact]
    public void Mismatched_stakes_are_refused_naming_the_field()
    {
        var input = Input([new(A(1), 1)], [new(A(0x11), 1, [600_000])]);
        var ex = Assert.Throws<ArgumentException>(() => TournamentSettlement.Compute(input, Rules, []));
        Assert.StartsWith("trainer_stakes:", ex.Message, StringComparison.Ordinal);
    }
}
