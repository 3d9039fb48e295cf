using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Settlement at the edges: no validators, no updates, all rejected, zero and dominating weights, ties.</summary>
public sealed class SettlementEdgeCaseTests
{
    private static readonly Address T1 = A(0x11), T2 = A(0x12), T3 = A(0x13);
    private static readonly Address V1 = A(0x21), V2 = A(0x22), V3 = A(0x23), V4 = A(0x24);

    [Fact]
    public void No_revealed_validators_decide_nothing_pay_nothing_and_slash_only_the_unrevealed()
    {
        var r = RoundSettlement.Compute(Input([new(T1, 10), new(T2, 20)], [], [V4]));
        Assert.All(r.Verdicts, v =>
        {
            Assert.Equal(0UL, v.ConsensusScore);
            Assert.False(v.Accepted);
            Assert.False(v.Rejected);
            Assert.Equal(UInt128.Zero, v.TotalWeight);
        });
        Assert.Empty(r.TrainerRewards);
        Assert.Empty(r.ValidatorRewards);
        Assert.Empty(r.AgreementBps);
        Assert.Empty(r.SlashedTrainers);
        Assert.Equal([V4], r.SlashedValidators);
        Assert.Equal(Tok(100), r.Undistributed);
        Assert.Equal(Tok(100), r.ReturnedToEscrow);
    }

    [Fact]
    public void Zero_revealed_weight_is_treated_as_no_validators()
    {
        // With W = 0, "reject weight * 10000 >= bps * W" would read 0 >= 0 and reject (and slash) everything.
        var r = RoundSettlement.Compute(Input([new(T1, 10)], [new(V1, 0, [0]), new(V2, 0, [900_000])]));
        Assert.Equal(0UL, r.Verdicts[0].ConsensusScore);
        Assert.False(r.Verdicts[0].Rejected);
        Assert.False(r.Verdicts[0].Accepted);
        Assert.Empty(r.SlashedTrainers);
        Assert.Equal(10_000u, r.AgreementBps[V1]);
        Assert.Equal(0u, r.AgreementBps[V2]);
        Assert.Empty(r.ValidatorRewards);
        Assert.Equal(Tok(100), r.Undistributed);
    }

    [Fact]
    public void A_zero_weight_validator_among_others_neither_votes_nor_earns()
    {
        var with = RoundSettlement.Compute(Input([new(T1, 10)], [new(V1, Tok(10), [800_000]), new(V2, 0, [0])]));
        var without = RoundSettlement.Compute(Input([new(T1, 10)], [new(V1, Tok(10), [800_000])]));
        Assert.Equal(without.Verdicts, with.Verdicts);
        Assert.Equal(800_000UL, with.Verdicts[0].ConsensusScore);
        Assert.True(with.Verdicts[0].Accepted);
        Assert.Equal(0u, with.AgreementBps[V2]);
        Assert.False(with.ValidatorRewards.ContainsKey(V2));
        Assert.Equal(Tok(30), with.ValidatorRewards[V1]);
    }

    [Fact]
    public void No_updates_pays_validators_by_stake_at_full_agreement_and_keeps_the_trainer_pool()
    {
        var r = RoundSettlement.Compute(Input([], [new(V1, Tok(1), []), new(V2, Tok(2), [])], [V4]));
        Assert.Empty(r.Verdicts);
        Assert.Equal(10_000u, r.AgreementBps[V1]);
        Assert.Equal(10_000u, r.AgreementBps[V2]);
        Assert.Equal(Tok(10), r.ValidatorRewards[V1]);
        Assert.Equal(Tok(20), r.ValidatorRewards[V2]);
        Assert.Empty(r.TrainerRewards);
        Assert.Equal(Tok(70), r.Undistributed);
        Assert.Equal([V4], r.SlashedValidators);
    }

    [Fact]
    public void All_rejected_slashes_each_trainer_once_and_keeps_the_trainer_pool()
    {
        var r = RoundSettlement.Compute(Input(
            [new(T1, 10), new(T2, 10), new(T1, 10)],
            [new(V1, Tok(1), [10, 20, 30]), new(V2, Tok(1), [40, 50, 60])]));
        Assert.All(r.Verdicts, v => Assert.True(v.Rejected));
        Assert.All(r.Verdicts, v => Assert.False(v.Accepted));
        Assert.Equal([T1, T2], r.SlashedTrainers);
        Assert.Empty(r.TrainerRewards);
        // Equal halves: the lower scores are the consensus; V2 is 30 ppm off on each update.
        Assert.Equal([10UL, 20UL, 30UL], r.Verdicts.Select(v => v.ConsensusScore));
        Assert.Equal(10_000u, r.AgreementBps[V1]);
        Assert.Equal(9_985u, r.AgreementBps[V2]);
        Assert.Equal(r.TrainerPool + (r.ValidatorPool - Sum(r.ValidatorRewards.Values)), r.Undistributed);
        Assert.Equal(Tok(70), r.TrainerPool);
    }

    [Fact]
    public void Consensus_zero_without_a_supermajority_is_neither_accepted_nor_rejected()
    {
        var r = RoundSettlement.Compute(Input([new(T1, 10)], [new(V1, Tok(1), [0])], rejectBelow: 0));
        Assert.False(r.Verdicts[0].Accepted);
        Assert.False(r.Verdicts[0].Rejected);
        Assert.Empty(r.SlashedTrainers);
        Assert.Empty(r.TrainerRewards);
    }

    [Fact]
    public void A_score_equal_to_the_threshold_is_not_a_reject_vote()
    {
        var r = RoundSettlement.Compute(Input([new(T1, 10)], [new(V1, Tok(1), [500_000])]));
        Assert.Equal(UInt128.Zero, r.Verdicts[0].RejectWeight);
        Assert.True(r.Verdicts[0].Accepted);
    }

    [Fact]
    public void Supermajority_is_compared_exactly_at_its_boundary()
    {
        // 2 of 3 equal weights is 6666.67 bps: below 6667 (not rejected); at 6666 it is rejected.
        SettlementInput Round(uint bps) => Input(
            [new(T1, 10)],
            [new(V1, 1, [0]), new(V2, 1, [0]), new(V3, 1, [900_000])],
            p: IncentiveParams.Default with { SupermajorityBps = bps });
        Assert.False(RoundSettlement.Compute(Round(6667)).Verdicts[0].Rejected);
        Assert.True(RoundSettlement.Compute(Round(6666)).Verdicts[0].Rejected);
        Assert.True(Consensus.IsRejected(6667, 10_000, 6667));
        Assert.False(Consensus.IsRejected(6666, 10_000, 6667));
        Assert.False(Consensus.IsRejected(0, 0, 6667));
    }

    [Fact]
    public void One_validator_sets_the_consensus_agrees_fully_and_takes_the_validator_pool()
    {
        var r = RoundSettlement.Compute(Input([new(T1, 3), new(T2, 1)], [new(V1, Tok(5), [600_000, 200_000])]));
        Assert.Equal([600_000UL, 200_000UL], r.Verdicts.Select(v => v.ConsensusScore));
        Assert.Equal([true, false], r.Verdicts.Select(v => v.Accepted));
        Assert.Equal([T2], r.SlashedTrainers);
        Assert.Equal(10_000u, r.AgreementBps[V1]);
        Assert.Equal(Tok(30), r.ValidatorRewards[V1]);
        Assert.Equal(Tok(70), r.TrainerRewards[T1]);
        Assert.Equal(UInt128.Zero, r.Undistributed);
    }

    [Fact]
    public void Ties_in_weight_take_the_lower_median_and_ties_in_score_give_that_score()
    {
        // Two equal halves: cumulative * 2 == total at the lower one.
        Assert.Equal(100UL, Consensus.WeightedMedian([(V1, 5, 200), (V2, 5, 100)]));
        Assert.Equal(100UL, Consensus.WeightedMedian([(V2, 5, 100), (V1, 5, 200)]));
        // Equal scores: the address order decides who is first, not the result.
        Assert.Equal(300UL, Consensus.WeightedMedian([(V3, 1, 300), (V1, 1, 300), (V2, 1, 300)]));
        Assert.Equal(300UL, Consensus.WeightedMedian([(V3, 2, 400), (V1, 1, 300), (V2, 1, 300), (V4, 1, 100)]));
        // Zero weights at the front never reach half.
        Assert.Equal(700UL, Consensus.WeightedMedian([(V1, 0, 1), (V2, 0, 2), (V3, 1, 700)]));
        Assert.Throws<ArgumentException>(() => Consensus.WeightedMedian([]));
    }

    [Fact]
    public void A_validator_with_a_dominating_stake_decides_alone()
    {
        var huge = UInt128.MaxValue / 2;
        var r = RoundSettlement.Compute(Input(
            [new(T1, 10), new(T2, 10)],
            [new(V1, huge, [900_000, 100_000]), new(V2, Tok(1_000_000), [100_000, 900_000]), new(V3, Tok(1), [100_000, 900_000])],
            reward: UInt128.MaxValue / 4));
        Assert.Equal([900_000UL, 100_000UL], r.Verdicts.Select(v => v.ConsensusScore));
        Assert.Equal([true, false], r.Verdicts.Select(v => v.Accepted));
        Assert.Equal([T2], r.SlashedTrainers);
        Assert.Equal(10_000u, r.AgreementBps[V1]);
        Assert.Equal(0u, r.AgreementBps[V2]);
        Assert.Equal([V1], r.ValidatorRewards.Keys);
        Assert.Equal(r.ValidatorPool, r.ValidatorRewards[V1]);
        Assert.Equal(r.TrainerPool, r.TrainerRewards[T1]);
    }

    [Fact]
    public void Several_accepted_updates_of_one_trainer_add_up_and_stay_traceable()
    {
        var r = RoundSettlement.Compute(Input(
            [new(T1, 1), new(T2, 1), new(T1, 2)],
            [new(V1, Tok(1), [1_000_000, 1_000_000, 1_000_000])]));
        Assert.Equal([Tokens.Parse("17.5"), Tokens.Parse("17.5"), Tok(35)], r.Verdicts.Select(v => v.Reward));
        Assert.Equal(Tokens.Parse("52.5"), r.TrainerRewards[T1]);
        Assert.Equal(Tokens.Parse("17.5"), r.TrainerRewards[T2]);
    }

    [Fact]
    public void Accepted_updates_without_samples_leave_the_trainer_pool_undistributed()
    {
        var r = RoundSettlement.Compute(Input([new(T1, 0)], [new(V1, Tok(1), [900_000])]));
        Assert.True(r.Verdicts[0].Accepted);
        Assert.Empty(r.TrainerRewards);
        Assert.Equal(Tok(70), r.Undistributed);
    }

    [Fact]
    public void Validators_scoring_far_from_consensus_earn_nothing_and_their_pool_stays()
    {
        // Two equal halves 100,000 ppm apart: consensus is the lower score; the upper validator agrees 0.
        var r = RoundSettlement.Compute(Input([new(T1, 1)], [new(V1, 1, [700_000]), new(V2, 1, [800_000])]));
        Assert.Equal(700_000UL, r.Verdicts[0].ConsensusScore);
        Assert.Equal(0u, r.AgreementBps[V2]);
        Assert.Equal([V1], r.ValidatorRewards.Keys);
        var alone = RoundSettlement.Compute(Input([new(T1, 1)], [new(V2, 1, [900_000])]));
        Assert.Equal(Tok(30), alone.ValidatorRewards[V2]);
    }

    [Fact]
    public void Agreement_is_clipped_at_the_tolerance_and_floored()
    {
        Assert.Equal(10_000u, Consensus.Agreement(5, 5, 20_000));
        Assert.Equal(9_999u, Consensus.Agreement(5, 6, 20_000));
        Assert.Equal(5_000u, Consensus.Agreement(10_000, 20_000, 20_000));
        Assert.Equal(0u, Consensus.Agreement(0, 20_000, 20_000));
        Assert.Equal(0u, Consensus.Agreement(1_000_000, 0, 20_000));
        Assert.Equal(3_333u, Consensus.Agreement(0, 2, 3));
        Assert.Equal(0u, Consensus.Agreement(0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Consensus.Agreement(0, 0, 0));
    }

    [Fact]
    public void Emission_is_minted_only_as_far_as_it_is_paid()
    {
        // Nobody to pay: the emission is not minted and the pool share goes back whole.
        var empty = RoundSettlement.Compute(Input([], [], [V4], reward: Tok(105)) with { EmissionPart = Tok(5) });
        Assert.Equal(Tok(105), empty.Undistributed);
        Assert.Equal(UInt128.Zero, empty.Minted);
        Assert.Equal(Tok(100), empty.ReturnedToEscrow);

        // Only validators paid (3 of 10): the emission (1) is minted; 7 back to escrow.
        var noTrainer = RoundSettlement.Compute(Input([new(T1, 1)], [new(V1, 1, [100])], reward: Tok(10)) with { EmissionPart = Tok(1) });
        Assert.Equal(Tok(3), noTrainer.Paid);
        Assert.Equal(Tok(1), noTrainer.Minted);
        Assert.Equal(Tok(7), noTrainer.ReturnedToEscrow);

        // Without an emission part, everything undistributed goes back (the literal rule).
        var literal = RoundSettlement.Compute(Input([], [], reward: Tok(105)));
        Assert.Equal(Tok(105), literal.ReturnedToEscrow);
        Assert.Equal(UInt128.Zero, literal.Minted);
    }

    [Fact]
    public void Invalid_inputs_are_refused_naming_the_field()
    {
        static string Error(SettlementInput input) => Assert.Throws<ArgumentException>(() => RoundSettlement.Compute(input)).Message;
        Assert.StartsWith("revealed[0].scores: has 1 scores, expected 2", Error(Input([new(T1, 1), new(T2, 1)], [new(V1, 1, [5])])));
        Assert.StartsWith("revealed[0].scores[1]: must be <= 1000000, got 1000001", Error(Input([new(T1, 1), new(T2, 1)], [new(V1, 1, [5, 1_000_001])])));
        Assert.StartsWith("revealed[1].validator:", Error(Input([], [new(V1, 1, []), new(V1, 2, [])])));
        Assert.StartsWith("unrevealed[0]:", Error(Input([], [new(V1, 1, [])], [V1])));
        Assert.StartsWith("unrevealed[1]:", Error(Input([], [], [V2, V2])));
        Assert.StartsWith("revealed[1].weight:", Error(Input([], [new(V1, UInt128.MaxValue, []), new(V2, 1, [])])));
        Assert.StartsWith("emission_part:", Error(Input([], [], reward: 5) with { EmissionPart = 6 }));
        Assert.StartsWith("params.agreement_tolerance:", Error(Input([], [], p: IncentiveParams.Default with { AgreementTolerance = 0 })));
        Assert.Null(Input([new(T3, 1)], [new(V1, UInt128.MaxValue, [1_000_000])]).Validate());
    }
}
