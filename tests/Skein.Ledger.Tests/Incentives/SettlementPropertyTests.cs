using CsCheck;
using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Properties of <see cref="RoundSettlement.Compute"/> on random rounds.</summary>
public sealed class SettlementPropertyTests
{
    private static readonly UInt128 Big = UInt128.One << 100;

    // Round numbers near the reject threshold and the ends of the range, so ties and boundaries come up often.
    private static readonly Gen<ulong> Score = Gen.Frequency(
        (3, (IGen<ulong>)Gen.ULong[0, SettlementInput.MaxScore]),
        (2, Gen.OneOf(0UL, 100_000UL, 499_999UL, 500_000UL, 500_001UL, 900_000UL, 1_000_000UL)));

    // Zero, tiny (exact halves and ties), small and huge weights; at most 2^100 each, so seven cannot overflow 128 bits.
    private static readonly Gen<UInt128> Weight = Gen.Frequency(
        (1, (IGen<UInt128>)Gen.Const(UInt128.Zero)),
        (3, Gen.UInt128[1, 3]),
        (3, Gen.UInt128[1, 1000]),
        (3, Gen.UInt128[1, Big]));

    private static readonly Gen<IncentiveParams> Params = Gen.Select(
        Gen.UInt[0, 10_000], Gen.UInt[5_001, 10_000], Gen.ULong[1, 1_000_000], Gen.UInt[0, 10_000], Gen.UInt[0, 10_000], Gen.UInt128[0, Big], Gen.ULong[1, 10_000])
        .Select((share, majority, tolerance, ts, vs, emission, halving) => new IncentiveParams(share, majority, tolerance, ts, vs, emission, halving));

    /// <summary>A valid random round: 0-6 updates from up to 4 trainers, 0-6 revealing and 0-3 unrevealed validators.</summary>
    internal static readonly Gen<SettlementInput> Round =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 6], Gen.Int[0, 3]).SelectMany(sizes =>
        {
            var (nu, nv, nx) = sizes;
            var updates = Gen.Select(Gen.Byte[1, 4], Gen.Frequency((6, (IGen<ulong>)Gen.ULong[0, 100_000]), (1, Gen.Const(ulong.MaxValue))))
                .Select((trainer, samples) => new UpdateInfo(A(0xAA, trainer), samples))
                .Array[nu, nu];
            // A random first byte makes the address order differ from the input order.
            var reveals = Gen.Select(Gen.Byte, Weight, Score.Array[nu, nu]).Array[nv, nv]
                .Select(vs => vs.Select((v, i) => new ValidatorReveal(A(v.Item1, (byte)(i + 1)), v.Item2, v.Item3)).ToArray());
            var unrevealed = Gen.Byte.Array[nx, nx].Select(xs => xs.Select((x, i) => A(x, (byte)(0x80 + i))).ToArray());
            var reward = Gen.Frequency((1, (IGen<UInt128>)Gen.UInt128[0, 1000]), (3, Gen.UInt128[0, UInt128.One << 120]));
            return Gen.Select(updates, reveals, unrevealed, reward, Gen.ULong[0, SettlementInput.MaxScore + 1], Params, Gen.Int[0, 100])
                .Select((u, v, x, r, theta, p, emissionPercent) => new SettlementInput(u, v, x, r, theta, p)
                {
                    EmissionPart = r / 100 * (uint)emissionPercent,
                });
        });

    [Fact]
    public void Generated_rounds_are_valid() => Round.Sample(input => input.Validate() is null);

    [Fact]
    public void Rewards_plus_undistributed_conserve_the_round_reward()
    {
        Round.Sample(input =>
        {
            var r = RoundSettlement.Compute(input);
            var trainers = Sum(r.TrainerRewards.Values);
            var validators = Sum(r.ValidatorRewards.Values);
            Assert.Equal(input.RoundReward, trainers + validators + r.Undistributed);
            Assert.Equal(input.RoundReward, r.TrainerPool + r.ValidatorPool);
            Assert.True(trainers <= r.TrainerPool && validators <= r.ValidatorPool);
            Assert.Equal(trainers, Sum(r.Verdicts.Select(v => v.Reward)));
            Assert.Equal(r.Undistributed, r.ReturnedToEscrow + (input.EmissionPart - r.Minted));
            Assert.Equal(r.Paid, trainers + validators);
            Assert.DoesNotContain(UInt128.Zero, r.TrainerRewards.Values);
            Assert.DoesNotContain(UInt128.Zero, r.ValidatorRewards.Values);
        }, iter: 2_000);
    }

    [Fact]
    public void Floor_dust_is_less_than_one_base_unit_per_payee()
    {
        Round.Sample(input =>
        {
            var r = RoundSettlement.Compute(input);
            var trainerDust = r.TrainerPool - Sum(r.TrainerRewards.Values);
            var validatorDust = r.ValidatorPool - Sum(r.ValidatorRewards.Values);
            if (r.Verdicts.Any(v => v.Accepted && input.Updates[v.Index].Samples > 0))
            {
                Assert.True(trainerDust < (UInt128)input.Updates.Count, $"trainer dust {trainerDust}");
            }
            if (input.Revealed.Any(v => v.Weight > 0 && r.AgreementBps[v.Validator] > 0))
            {
                Assert.True(validatorDust < (UInt128)input.Revealed.Count, $"validator dust {validatorDust}");
            }
        });
    }

    [Fact]
    public void The_consensus_is_a_lower_weighted_median_between_the_lowest_and_highest_score()
    {
        Round.Where(i => i.Revealed.Any(v => v.Weight > 0)).Sample(input =>
        {
            var r = RoundSettlement.Compute(input);
            var total = Sum(input.Revealed.Select(v => v.Weight));
            foreach (var verdict in r.Verdicts)
            {
                var scores = input.Revealed.Select(v => (v.Weight, Score: v.Scores[verdict.Index])).ToArray();
                var c = verdict.ConsensusScore;
                Assert.InRange(c, scores.Min(s => s.Score), scores.Max(s => s.Score));
                Assert.Contains(c, scores.Select(s => s.Score));
                // 2 * W(score <= c) >= W and 2 * W(score < c) < W, in BigInteger-free form.
                var atMost = Sum(scores.Where(s => s.Score <= c).Select(s => s.Weight));
                var below = Sum(scores.Where(s => s.Score < c).Select(s => s.Weight));
                Assert.True(atMost >= total - atMost);
                Assert.True(below < total - below);
            }
        }, iter: 5_000);
    }

    [Fact]
    public void Raising_a_score_never_turns_an_accepted_update_into_a_rejected_one()
    {
        Gen.Select(Round.Where(i => i.Updates.Count > 0 && i.Revealed.Count > 0), Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.ULong[0, SettlementInput.MaxScore])
            .Sample((input, vi, ui, raise) =>
            {
                var v = vi % input.Revealed.Count;
                var u = ui % input.Updates.Count;
                var before = RoundSettlement.Compute(input);
                var scores = input.Revealed[v].Scores.ToArray();
                scores[u] = Math.Min(SettlementInput.MaxScore, scores[u] + raise);
                var revealed = input.Revealed.ToArray();
                revealed[v] = revealed[v] with { Scores = scores };
                var after = RoundSettlement.Compute(input with { Revealed = revealed });
                Assert.True(after.Verdicts[u].ConsensusScore >= before.Verdicts[u].ConsensusScore);
                Assert.True(after.Verdicts[u].RejectWeight <= before.Verdicts[u].RejectWeight);
                if (before.Verdicts[u].Accepted)
                {
                    Assert.True(after.Verdicts[u].Accepted);
                    Assert.False(after.Verdicts[u].Rejected);
                }
            }, iter: 2_000);
    }

    [Fact]
    public void A_validator_scoring_exactly_the_consensus_agrees_fully_and_leaves_it_unchanged()
    {
        Gen.Select(Round.Where(i => i.Revealed.Count > 0), Gen.Int[0, 1000]).Sample((input, vi) =>
        {
            var v = vi % input.Revealed.Count;
            var consensus = RoundSettlement.Compute(input).Verdicts.Select(x => x.ConsensusScore).ToArray();
            var revealed = input.Revealed.ToArray();
            revealed[v] = revealed[v] with { Scores = consensus };
            var after = RoundSettlement.Compute(input with { Revealed = revealed });
            Assert.Equal(consensus, after.Verdicts.Select(x => x.ConsensusScore));
            Assert.Equal(10_000u, after.AgreementBps[revealed[v].Validator]);
        });
    }

    [Fact]
    public void The_order_of_the_revealed_validators_does_not_matter()
    {
        Gen.Select(Round, Gen.Int).Sample((input, seed) =>
        {
            var shuffled = input.Revealed.ToArray();
            new Random(seed).Shuffle(shuffled);
            var a = RoundSettlement.Compute(input);
            var b = RoundSettlement.Compute(input with { Revealed = shuffled });
            Assert.Equal(a.Verdicts, b.Verdicts);
            Assert.Equal(a.TrainerRewards, b.TrainerRewards);
            Assert.Equal(a.ValidatorRewards, b.ValidatorRewards);
            Assert.Equal(a.AgreementBps, b.AgreementBps);
            Assert.Equal(a.Undistributed, b.Undistributed);
        });
    }

    [Fact]
    public void Verdicts_are_consistent_with_the_rules()
    {
        Round.Sample(input =>
        {
            var r = RoundSettlement.Compute(input);
            Assert.Equal(input.Updates.Count, r.Verdicts.Count);
            foreach (var v in r.Verdicts)
            {
                Assert.False(v.Accepted && v.Rejected);
                Assert.Equal(v.Accepted, !v.Rejected && v.ConsensusScore > 0);
                Assert.Equal(v.Rejected, Consensus.IsRejected(v.RejectWeight, v.TotalWeight, input.Params.SupermajorityBps));
                Assert.True(v.Accepted || v.Reward == 0);
            }
            var rejectedTrainers = r.Verdicts.Where(v => v.Rejected).Select(v => v.Trainer).Distinct();
            Assert.Equal(rejectedTrainers, r.SlashedTrainers);
            Assert.Equal(input.Unrevealed, r.SlashedValidators);
            Assert.Equal(input.Revealed.Select(v => v.Validator).Order(), r.AgreementBps.Keys);
            Assert.All(r.AgreementBps.Values, a => Assert.InRange(a, 0u, 10_000u));
        });
    }
}
