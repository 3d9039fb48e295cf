using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>The emission schedule and the pool's spread over rounds.</summary>
public sealed class EmissionTests
{
    private static readonly IncentiveParams P = IncentiveParams.Default;

    [Fact]
    public void Emission_halves_at_each_boundary()
    {
        var h = P.HalvingRounds;
        Assert.Equal(Tok(10), Emission.ForRound(0, P));
        Assert.Equal(Tok(10), Emission.ForRound(h - 1, P));
        Assert.Equal(Tok(5), Emission.ForRound(h, P));
        Assert.Equal(Tokens.Parse("2.5"), Emission.ForRound((2 * h) + 1, P));
        Assert.Equal(Tok(10) >> 126, Emission.ForRound((127 * h) - 1, P));
        Assert.Equal(Tok(10) >> 127, Emission.ForRound(127 * h, P));
        Assert.Equal(UInt128.Zero, Emission.ForRound(128 * h, P));
        Assert.Equal(UInt128.Zero, Emission.ForRound(ulong.MaxValue, P));
    }

    [Fact]
    public void After_127_halvings_even_the_largest_emission_stops()
    {
        var p = P with { EmissionPerRound = UInt128.MaxValue, HalvingRounds = 1 };
        Assert.Equal(UInt128.MaxValue, Emission.ForRound(0, p));
        Assert.Equal(UInt128.One, Emission.ForRound(127, p));
        // A bare x >> 128 would be x: the cut-off must not wrap around.
        Assert.Equal(UInt128.Zero, Emission.ForRound(128, p));
        Assert.Equal(UInt128.Zero, Emission.ForRound(129, p));
        Assert.Equal(UInt128.Zero, Emission.ForRound(255, p));
        Assert.Equal(UInt128.Zero, Emission.ForRound(256, p));
    }

    [Fact]
    public void The_cap_is_the_sum_of_the_schedule()
    {
        var p = P with { HalvingRounds = 3, EmissionPerRound = 1000 };
        var sum = UInt128.Zero;
        for (ulong k = 0; k < 3 * 130; k++)
        {
            sum += Emission.ForRound(k, p);
        }
        Assert.Equal(sum, Emission.Cap(p));
        Assert.True(Emission.Cap(P) < Tok(20_000));
        Assert.Equal(UInt128.MaxValue, Emission.Cap(P with { EmissionPerRound = UInt128.MaxValue }));
    }

    [Fact]
    public void Emission_refuses_a_zero_halving_period()
    {
        Assert.Throws<ArgumentException>(() => Emission.ForRound(0, P with { HalvingRounds = 0 }));
    }

    [Fact]
    public void Pool_shares_sum_to_the_pool_with_the_remainder_last()
    {
        var pool = (UInt128)1003;
        Assert.Equal([(UInt128)100, 100, 100, 100, 100, 100, 100, 100, 100, 103], Enumerable.Range(0, 10).Select(i => PoolSchedule.ShareForRound(pool, 10, (uint)i)));
        Assert.Equal((UInt128)7, PoolSchedule.ShareForRound(7, 1, 0));
        Assert.Equal((UInt128)7, PoolSchedule.ShareForRound(7, 8, 7));
        Assert.Equal(UInt128.Zero, PoolSchedule.ShareForRound(7, 8, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolSchedule.ShareForRound(7, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolSchedule.ShareForRound(7, 3, 3));
    }
}
