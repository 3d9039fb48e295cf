using CsCheck;
using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class TrimmedMeanTests
{
    private static double[] Reference(float[] global, ClientUpdate[] updates, int trim) =>
        global.Select((g, c) =>
        {
            var kept = Rounds.Coordinate(updates, c).Order().Skip(trim).Take(updates.Length - (2 * trim)).ToArray();
            return g + kept.Average();
        }).ToArray();

    [Theory]
    [InlineData(1, 1, 4, 0.2, 0)]
    [InlineData(2, 5, 17, 0.2, 1)]
    [InlineData(3, 10, 64, 0.1, 1)]
    [InlineData(4, 10, 64, 0.29, 2)]
    [InlineData(5, 13, 40, 0.49, 6)]
    [InlineData(6, 100, 20, 0.29, 29)]
    public void Equals_the_mean_after_trimming_each_side(int seed, int n, int p, double beta, int trim)
    {
        var strategy = new TrimmedMean(beta);
        Assert.Equal(trim, strategy.TrimCount(n));
        var (global, updates) = Rounds.Random(seed, n, p);
        var expected = Reference(global, updates, trim);
        strategy.Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Fact]
    public void Works_across_block_boundaries()
    {
        const int n = 5;
        var block = CoordinateBlocks.BlockLength(n);
        foreach (var p in new[] { 1, 3, block - 1, block, block + 1, (2 * block) + 7 })
        {
            var (global, updates) = Rounds.Random(p, n, p);
            var expected = Reference(global, updates, 1);
            new TrimmedMean(0.2).Aggregate(global, updates, default);
            Rounds.Close(expected, global, 1e-6);
        }
    }

    [Fact]
    public void With_beta_zero_it_is_the_unweighted_mean()
    {
        Gen.Select(Gen.Int[1, 15], Gen.Int[1, 100], Gen.Int).Sample((n, p, seed) =>
        {
            var (global, updates) = Rounds.Random(seed, n, p);
            var expected = global.Select((g, c) => g + Rounds.Coordinate(updates, c).Average()).ToArray();
            new TrimmedMean(0).Aggregate(global, updates, default);
            return Rounds.AreClose(expected, global, 1e-6);
        });
    }

    [Fact]
    public void Ignores_one_huge_outlier_that_moves_FedAvg_far()
    {
        var (global, updates) = Rounds.WithOutlier(4, 9, 30);
        var start = global.ToArray();
        new TrimmedMean(0.1).Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0089, 0.0111));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic()
    {
        var (global, updates) = Rounds.Random(10, 12, 4500);
        var a = global.ToArray();
        var b = global.ToArray();
        new TrimmedMean(0.25).Aggregate(a, updates, default);
        new TrimmedMean(0.25).Aggregate(b, Rounds.Copy(updates), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void Refuses_beta_outside_zero_to_one_half(double beta)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TrimmedMean(beta));
        Assert.Equal("beta", ex.ParamName);
        Assert.Contains("must be in [0, 0.5)", ex.Message);
    }
}
