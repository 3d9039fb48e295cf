using CsCheck;
using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Properties of <see cref="RankSettlement.Compute"/>, the trainers' side of a tournament's settlement.</summary>
public sealed class RankSettlementTests
{
    private static readonly UInt128 Big = UInt128.One << 100;

    // Few distinct scores and stakes, so that ties and equal stakes come up often.
    private static readonly Gen<RankedSubmission> Submission = Gen.Select(
        Gen.Byte[1, 250],
        Gen.Frequency((3, (IGen<UInt128>)Gen.OneOf(Gen.Const((UInt128)1), Gen.Const((UInt128)7), Gen.Const(Tokens.Whole(50)))), (1, Gen.UInt128[0, Big])),
        Gen.Frequency((3, (IGen<ulong>)Gen.OneOf(0UL, 500_000UL, 750_000UL, 1_000_000UL)), (1, Gen.ULong[0, 1_000_000])),
        Gen.Frequency((5, Gen.Const(true)), (1, Gen.Const(false))),
        (who, stake, score, eligible) => new RankedSubmission(A(who), stake, score, eligible));

    private static readonly Gen<(UInt128 Pool, uint Decay, RankedSubmission[] Submissions)> Tournament = Gen.Select(
        Gen.Frequency((3, (IGen<UInt128>)Gen.UInt128[0, Tokens.Whole(1_000_000)]), (1, Gen.UInt128[0, Big])),
        Gen.Frequency((3, (IGen<uint>)Gen.OneOf(5_000u, 9_000u, 10_000u, 1u)), (1, Gen.UInt[1, 10_000])),
        Submission.Array[0, 12]);

    private static bool Earns(RankedSubmission s) => s.Eligible && s.Score > 0 && s.Stake > 0;

    [Fact]
    public void Payouts_and_leftover_are_the_pool_exactly_and_rounding_leaves_less_than_a_unit_per_payee() =>
        Tournament.Sample(t =>
        {
            var r = RankSettlement.Compute(t.Pool, t.Decay, t.Submissions);
            var paid = r.Amounts.Aggregate(UInt128.Zero, (a, b) => a + b);
            var payees = t.Submissions.Count(Earns);
            return r.Amounts.Count == t.Submissions.Length && paid + r.Leftover == t.Pool
                && (payees == 0 ? r.Leftover == t.Pool : r.Leftover < (UInt128)payees);
        });

    [Fact]
    public void At_equal_stake_a_better_rank_never_pays_less_and_a_tie_pays_the_same() =>
        Tournament.Sample(t =>
        {
            var r = RankSettlement.Compute(t.Pool, t.Decay, t.Submissions);
            for (var i = 0; i < t.Submissions.Length; i++)
            {
                for (var j = 0; j < t.Submissions.Length; j++)
                {
                    var (a, b) = (t.Submissions[i], t.Submissions[j]);
                    if (!Earns(a) || !Earns(b) || a.Stake != b.Stake)
                    {
                        continue;
                    }
                    if ((a.Score > b.Score && r.Amounts[i] < r.Amounts[j]) || (a.Score == b.Score && r.Amounts[i] != r.Amounts[j]))
                    {
                        return false;
                    }
                }
            }
            return true;
        });

    [Fact]
    public void What_may_not_earn_earns_nothing_and_the_order_of_submission_changes_no_payout() =>
        Tournament.Sample(t =>
        {
            var r = RankSettlement.Compute(t.Pool, t.Decay, t.Submissions);
            var reversed = RankSettlement.Compute(t.Pool, t.Decay, t.Submissions.Reverse().ToArray());
            return t.Submissions.Select((s, i) => Earns(s) || r.Amounts[i] == 0).All(ok => ok)
                && r.Amounts.SequenceEqual(reversed.Amounts.Reverse()) && r.Leftover == reversed.Leftover;
        });

    [Fact]
    public void A_worked_example_ranks_by_a_halving_series_and_splits_a_tie()
    {
        // Ratio 1/2: positions weigh 1, 1/2, 1/4, 1/8. The two at 800,000 share 1/2 + 1/4, so 3/8 each; the copy earns
        // nothing; at equal stake the pool of 1.875 units per 1/8 divides as 1 : 3/8 : 3/8 : 1/8.
        RankedSubmission[] submissions =
        [
            new(A(1), 10, 800_000, true),
            new(A(2), 10, 900_000, true),
            new(A(3), 10, 950_000, false),
            new(A(4), 10, 800_000, true),
            new(A(5), 10, 600_000, true),
        ];
        var r = RankSettlement.Compute(1_875, 5_000, submissions);
        Assert.Equal(new UInt128[] { 375, 1_000, 0, 375, 125 }, r.Amounts);
        Assert.Equal(UInt128.Zero, r.Leftover);

        // Stake weighs in: twice the stake at the same rank, twice the weight.
        var staked = RankSettlement.Compute(2_000, 5_000, [new(A(1), 20, 900_000, true), new(A(2), 10, 500_000, true)]);
        Assert.Equal(new UInt128[] { 1_600, 400 }, staked.Amounts);
    }

    [Fact]
    public void A_decay_outside_its_range_is_refused_by_name()
    {
        Assert.Contains("decay_bps", Assert.Throws<ArgumentOutOfRangeException>(() => RankSettlement.Compute(1, 0, [])).Message, StringComparison.Ordinal);
        Assert.Contains("decay_bps", Assert.Throws<ArgumentOutOfRangeException>(() => RankSettlement.Compute(1, 10_001, [])).Message, StringComparison.Ordinal);
    }
}
