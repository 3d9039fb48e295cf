using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>docs/incentives.md, "Worked example": every number of it.</summary>
public sealed class WorkedExampleTests
{
    private static readonly Address T1 = A(0x11), T2 = A(0x12), T3 = A(0x13);
    private static readonly Address V1 = A(0x21), V2 = A(0x22), V3 = A(0x23), V4 = A(0x24);
    private static readonly Address D = A(0x31), E = A(0x32);

    private static UInt128 RoundReward => PoolSchedule.ShareForRound(Tok(1000), 10, 2) + Emission.ForRound(1234, IncentiveParams.Default);

    private static SettlementInput Example() =>
        new(
            [new(T1, 6000), new(T2, 4000), new(T3, 5000)],
            [
                new(V1, Tok(400), [910_000, 880_000, 126_000]),
                new(V2, Tok(200) + Tok(100), [902_000, 893_500, 140_000]),
                new(V3, Tok(200), [923_100, 861_300, 620_000]),
            ],
            [V4],
            RoundReward,
            500_000,
            IncentiveParams.Default)
        {
            EmissionPart = Emission.ForRound(1234, IncentiveParams.Default),
        };

    [Fact]
    public void Round_reward_is_the_pool_share_plus_halved_emission()
    {
        Assert.Equal(Tok(100), PoolSchedule.ShareForRound(Tok(1000), 10, 2));
        Assert.Equal(Tok(5), Emission.ForRound(1234, IncentiveParams.Default));
        Assert.Equal(U("105,000,000,000,000,000,000"), RoundReward);
        var r = RoundSettlement.Compute(Example());
        Assert.Equal(Tokens.Parse("73.5"), r.TrainerPool);
        Assert.Equal(Tokens.Parse("31.5"), r.ValidatorPool);
    }

    [Fact]
    public void Consensus_reject_weights_and_verdicts()
    {
        var r = RoundSettlement.Compute(Example());
        Assert.Equal([910_000UL, 880_000UL, 140_000UL], r.Verdicts.Select(v => v.ConsensusScore));
        Assert.Equal([UInt128.Zero, UInt128.Zero, Tok(700)], r.Verdicts.Select(v => v.RejectWeight));
        Assert.All(r.Verdicts, v => Assert.Equal(Tok(900), v.TotalWeight));
        Assert.Equal([true, true, false], r.Verdicts.Select(v => v.Accepted));
        Assert.Equal([false, false, true], r.Verdicts.Select(v => v.Rejected));
        Assert.Equal([T1, T2, T3], r.Verdicts.Select(v => v.Trainer));
        Assert.Equal([0, 1, 2], r.Verdicts.Select(v => v.Index));
        // The cross-multiplication of the table's last rows.
        Assert.Equal(7_000_000UL, 700UL * 10_000);
        Assert.Equal(6_000_300UL, 6667UL * 900);
    }

    [Fact]
    public void Per_update_agreements_and_their_floored_means()
    {
        var t = IncentiveParams.Default.AgreementTolerance;
        Assert.Equal([10000u, 10000u, 3000u], new[] { (910_000UL, 910_000UL), (880_000UL, 880_000UL), (126_000UL, 140_000UL) }.Select(x => Consensus.Agreement(x.Item1, x.Item2, t)));
        Assert.Equal([6000u, 3250u, 10000u], new[] { (902_000UL, 910_000UL), (893_500UL, 880_000UL), (140_000UL, 140_000UL) }.Select(x => Consensus.Agreement(x.Item1, x.Item2, t)));
        Assert.Equal([3450u, 650u, 0u], new[] { (923_100UL, 910_000UL), (861_300UL, 880_000UL), (620_000UL, 140_000UL) }.Select(x => Consensus.Agreement(x.Item1, x.Item2, t)));

        var r = RoundSettlement.Compute(Example());
        Assert.Equal([V1, V2, V3], r.AgreementBps.Keys);
        Assert.Equal(7666u, r.AgreementBps[V1]);
        Assert.Equal(6416u, r.AgreementBps[V2]);
        Assert.Equal(1366u, r.AgreementBps[V3]);
    }

    [Fact]
    public void Trainer_rewards_follow_consensus_times_samples()
    {
        var r = RoundSettlement.Compute(Example());
        Assert.Equal(U("44,689,309,576,837,416,481"), r.Verdicts[0].Reward);
        Assert.Equal(U("28,810,690,423,162,583,518"), r.Verdicts[1].Reward);
        Assert.Equal(UInt128.Zero, r.Verdicts[2].Reward);
        Assert.Equal([T1, T2], r.TrainerRewards.Keys);
        Assert.Equal(U("44,689,309,576,837,416,481"), r.TrainerRewards[T1]);
        Assert.Equal(U("28,810,690,423,162,583,518"), r.TrainerRewards[T2]);
        Assert.Equal("44.689309576837416481", Tokens.Format(r.TrainerRewards[T1]));
        Assert.Equal("28.810690423162583518", Tokens.Format(r.TrainerRewards[T2]));
        Assert.Equal(U("73,499,999,999,999,999,999"), Sum(r.TrainerRewards.Values));
        Assert.Equal(UInt128.One, r.TrainerPool - Sum(r.TrainerRewards.Values));
    }

    [Fact]
    public void Validator_rewards_follow_stake_times_agreement()
    {
        var r = RoundSettlement.Compute(Example());
        Assert.Equal([V1, V2, V3], r.ValidatorRewards.Keys);
        Assert.Equal(U("18,348,073,854,570,321,404"), r.ValidatorRewards[V1]);
        Assert.Equal(U("11,517,209,938,454,524,732"), r.ValidatorRewards[V2]);
        Assert.Equal(U("1,634,716,206,975,153,863"), r.ValidatorRewards[V3]);
        Assert.Equal("18.348073854570321404", Tokens.Format(r.ValidatorRewards[V1]));
        Assert.Equal("11.517209938454524732", Tokens.Format(r.ValidatorRewards[V2]));
        Assert.Equal("1.634716206975153863", Tokens.Format(r.ValidatorRewards[V3]));
        Assert.Equal(U("31,499,999,999,999,999,999"), Sum(r.ValidatorRewards.Values));
        Assert.Equal(UInt128.One, r.ValidatorPool - Sum(r.ValidatorRewards.Values));
        // e_v in SKN * bps, as in the doc's table.
        Assert.Equal(3_066_400UL, 400UL * 7666);
        Assert.Equal(1_924_800UL, 300UL * 6416);
        Assert.Equal(273_200UL, 200UL * 1366);
    }

    [Fact]
    public void V2_shares_its_reward_with_its_delegator_after_commission()
    {
        var reward = RoundSettlement.Compute(Example()).ValidatorRewards[V2];
        var delegatorsPart = Tokens.MulDiv(reward, Tok(100), Tok(300));
        Assert.Equal(U("3,839,069,979,484,841,577"), delegatorsPart);
        Assert.Equal(U("383,906,997,948,484,157"), Tokens.MulDiv(delegatorsPart, 1000, 10_000));

        var parts = StakeSplit.Reward(reward, V2, Tok(200), 1000, [(D, Tok(100))]);
        Assert.Equal([(V2, U("8,062,046,956,918,167,312")), (D, U("3,455,162,981,536,357,420"))], parts);
        Assert.Equal(reward, Sum(parts.Select(p => p.Amount)));
    }

    [Fact]
    public void T3_and_V4_are_slashed_and_the_slashes_split()
    {
        var p = IncentiveParams.Default;
        var r = RoundSettlement.Compute(Example());
        Assert.Equal([T3], r.SlashedTrainers);
        Assert.Equal([V4], r.SlashedValidators);

        var t3Slash = Tokens.MulDiv(Tok(75) + Tok(25), p.TrainerSlashBps, 10_000);
        Assert.Equal(Tok(10), t3Slash);
        var (t3Self, t3Delegations) = StakeSplit.Slash(t3Slash, Tok(75), [(E, Tok(25))]);
        Assert.Equal(Tokens.Parse("7.5"), t3Self);
        Assert.Equal([(E, Tokens.Parse("2.5"))], t3Delegations);

        var v4Slash = Tokens.MulDiv(Tok(150), p.ValidatorNoRevealSlashBps, 10_000);
        Assert.Equal(Tokens.Parse("7.5"), v4Slash);
        var (v4Self, v4Delegations) = StakeSplit.Slash(v4Slash, Tok(150), []);
        Assert.Equal(Tokens.Parse("7.5"), v4Self);
        Assert.Empty(v4Delegations);
    }

    [Fact]
    public void Leftovers_and_the_check_line()
    {
        var r = RoundSettlement.Compute(Example());
        Assert.Equal(U("2"), r.Undistributed);
        Assert.Equal(Tok(5), r.Minted);
        Assert.Equal(U("2"), r.ReturnedToEscrow);
        Assert.Equal(
            U("105,000,000,000,000,000,000"),
            U("44,689,309,576,837,416,481") + U("28,810,690,423,162,583,518")
                + U("18,348,073,854,570,321,404") + U("11,517,209,938,454,524,732") + U("1,634,716,206,975,153,863")
                + U("2"));
        Assert.Equal(RoundReward, Sum(r.TrainerRewards.Values) + Sum(r.ValidatorRewards.Values) + r.Undistributed);
        // Supply: +5 minted, -17.5 burned.
        Assert.Equal(Tokens.Parse("12.5"), Tokens.Parse("17.5") - r.Minted);
    }
}
