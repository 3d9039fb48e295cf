using System.Numerics;

namespace Skein.Ledger.Incentives;

/// <summary>The emission schedule: newly minted tokens per settled round, halving every <see cref="IncentiveParams.HalvingRounds"/> rounds.</summary>
public static class Emission
{
    /// <summary>After this many halvings a UInt128 emission is certainly 0.</summary>
    public const ulong MaxHalvings = 127;

    /// <summary>EmissionPerRound >> (settledRoundsBefore / HalvingRounds); 0 after 127 halvings.</summary>
    public static UInt128 ForRound(ulong settledRoundsBefore, IncentiveParams p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.HalvingRounds == 0)
        {
            throw new ArgumentException("params.halving_rounds: must be >= 1, got 0", nameof(p));
        }
        var halvings = settledRoundsBefore / p.HalvingRounds;
        // C# masks a UInt128 shift count to 7 bits (x >> 128 == x), so the cut-off must be explicit.
        return halvings > MaxHalvings ? UInt128.Zero : p.EmissionPerRound >> (int)halvings;
    }

    /// <summary>The most that can ever be emitted: the sum of the schedule over all rounds (saturating at UInt128.MaxValue).</summary>
    public static UInt128 Cap(IncentiveParams p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var total = BigInteger.Zero;
        for (var h = 0; h <= (int)MaxHalvings; h++)
        {
            total += (BigInteger)(p.EmissionPerRound >> h) * p.HalvingRounds;
        }
        return total > (BigInteger)UInt128.MaxValue ? UInt128.MaxValue : (UInt128)total;
    }
}

/// <summary>How a task's escrowed reward pool is spread over its rounds.</summary>
public static class PoolSchedule
{
    /// <summary>
    /// The pool's share for the round with 0-based index <paramref name="roundIndex"/>: floor(pool / rounds), and the last
    /// round the remainder, so that the shares sum exactly to the pool.
    /// </summary>
    public static UInt128 ShareForRound(UInt128 pool, uint rounds, uint roundIndex)
    {
        ArgumentOutOfRangeException.ThrowIfZero(rounds);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(roundIndex, rounds);
        var share = pool / rounds;
        return roundIndex == rounds - 1 ? pool - (share * (rounds - 1)) : share;
    }
}
