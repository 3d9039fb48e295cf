using System.Numerics;

namespace Skein.Ledger.Incentives;

/// <summary>The per-update consensus rules: stake-weighted median, supermajority rejection, clipped agreement.</summary>
public static class Consensus
{
    /// <summary>
    /// The lower stake-weighted median: sort by (score, validator) ascending and take the first score at which the
    /// cumulative weight is at least half the total (cumulative * 2 >= total). Requires a non-empty list.
    /// </summary>
    public static ulong WeightedMedian(IReadOnlyList<(Address Validator, UInt128 Weight, ulong Score)> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (votes.Count == 0)
        {
            throw new ArgumentException("the median of no votes is undefined", nameof(votes));
        }
        var sorted = votes.ToArray();
        // The address tie-break makes the order total, so the result cannot depend on the input order.
        Array.Sort(sorted, static (x, y) => x.Score != y.Score ? x.Score.CompareTo(y.Score) : x.Validator.CompareTo(y.Validator));
        var total = UInt128.Zero;
        foreach (var v in sorted)
        {
            total = checked(total + v.Weight);
        }
        var cumulative = UInt128.Zero;
        foreach (var v in sorted)
        {
            cumulative += v.Weight;
            // cumulative * 2 >= total, written so that it cannot overflow.
            if (cumulative >= total - cumulative)
            {
                return v.Score;
            }
        }
        return sorted[^1].Score;
    }

    /// <summary>rejectWeight * 10000 >= supermajorityBps * totalWeight, with totalWeight > 0: exact, no division.</summary>
    public static bool IsRejected(UInt128 rejectWeight, UInt128 totalWeight, uint supermajorityBps) =>
        totalWeight > 0 && (BigInteger)rejectWeight * IncentiveParams.BpsDenominator >= (BigInteger)totalWeight * supermajorityBps;

    /// <summary>10000 * (T - min(T, |score - consensus|)) / T, floored: full agreement at consensus, none at distance T or more.</summary>
    public static uint Agreement(ulong score, ulong consensus, ulong tolerance)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tolerance);
        var distance = score >= consensus ? score - consensus : consensus - score;
        var kept = tolerance - Math.Min(tolerance, distance);
        return (uint)((UInt128)kept * IncentiveParams.BpsDenominator / tolerance);
    }
}
