using System.Numerics;

namespace Skein.Ledger.Incentives;

/// <summary>One tournament submission as settlement sees it: its trainer, the trainer's role stake, its consensus score, and whether it may earn.</summary>
/// <param name="Trainer">Who submitted it.</param>
/// <param name="Stake">The trainer's role stake (own plus delegated), in base units.</param>
/// <param name="Score">The consensus score, parts per million; higher ranks first.</param>
/// <param name="Eligible">False for a submission that makes the base worse, fails the checks or copies another: it earns nothing.</param>
public sealed record RankedSubmission(Address Trainer, UInt128 Stake, ulong Score, bool Eligible);

/// <summary>What rank settlement pays: one amount per submission (in input order) and what is left of the pool.</summary>
public sealed record RankPayout(IReadOnlyList<UInt128> Amounts, UInt128 Leftover);

/// <summary>
/// The trainers' side of a tournament's settlement (FLock's rule, computed by the ledger): eligible submissions are
/// ranked by consensus score; rank position k (from 0) weighs r^k, a geometric series with ratio r = decay/10,000;
/// submissions with equal scores share their positions' weights evenly; a submission's share of the pool is its rank
/// weight times its trainer's stake over the sum of those products, rounded down. What rounding leaves is
/// <see cref="RankPayout.Leftover"/>: amounts plus leftover are the pool exactly. Integer arithmetic only (weights
/// scaled by 10^18), so every node computes the same payouts.
/// </summary>
public static class RankSettlement
{
    /// <summary>The fixed-point scale of rank weights.</summary>
    public static readonly BigInteger WeightScale = BigInteger.Pow(10, 18);

    public static RankPayout Compute(UInt128 pool, uint decayBps, IReadOnlyList<RankedSubmission> submissions)
    {
        ArgumentNullException.ThrowIfNull(submissions);
        if (decayBps is 0 or > IncentiveParams.BpsDenominator)
        {
            throw new ArgumentOutOfRangeException(nameof(decayBps), decayBps, $"decay_bps: must be in 1..{IncentiveParams.BpsDenominator}, got {decayBps}");
        }
        var amounts = new UInt128[submissions.Count];
        var ranked = Enumerable.Range(0, submissions.Count)
            .Where(i => submissions[i].Eligible && submissions[i].Score > 0 && submissions[i].Stake > 0)
            .OrderByDescending(i => submissions[i].Score)
            .ThenBy(i => i)
            .ToArray();
        if (ranked.Length == 0)
        {
            return new RankPayout(amounts, pool);
        }
        var weights = new BigInteger[submissions.Count];
        var position = WeightScale;
        for (var start = 0; start < ranked.Length;)
        {
            var end = start;
            BigInteger group = 0;
            while (end < ranked.Length && submissions[ranked[end]].Score == submissions[ranked[start]].Score)
            {
                group += position;
                position = position * decayBps / IncentiveParams.BpsDenominator;
                end++;
            }
            // Ties share their positions evenly: one weight for every member, so equal stakes are paid equally.
            var each = group / (end - start);
            for (var k = start; k < end; k++)
            {
                weights[ranked[k]] = each * (BigInteger)submissions[ranked[k]].Stake;
            }
            start = end;
        }
        var total = weights.Aggregate(BigInteger.Zero, (a, w) => a + w);
        var paid = UInt128.Zero;
        if (total > 0)
        {
            foreach (var i in ranked)
            {
                amounts[i] = (UInt128)((BigInteger)pool * weights[i] / total);
                paid += amounts[i];
            }
        }
        return new RankPayout(amounts, pool - paid);
    }
}
