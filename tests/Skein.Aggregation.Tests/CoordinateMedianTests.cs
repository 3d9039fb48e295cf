using CsCheck;
using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class CoordinateMedianTests
{
    private static double Median(double[] values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    private static double[] Reference(float[] global, ClientUpdate[] updates) =>
        global.Select((g, c) => g + Median(Rounds.Coordinate(updates, c))).ToArray();

    [Theory]
    [InlineData(1, 1, 5)]
    [InlineData(2, 2, 9)]
    [InlineData(3, 7, 33)]
    [InlineData(4, 10, 100)]
    public void Equals_the_coordinate_median(int seed, int n, int p)
    {
        var (global, updates) = Rounds.Random(seed, n, p);
        var expected = Reference(global, updates);
        new CoordinateMedian().Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Theory]
    [InlineData(CoordinateBlocks.MaxVectorMembers - 1)]
    [InlineData(CoordinateBlocks.MaxVectorMembers + 1)]
    public void Simd_network_and_the_sorting_fallback_agree_with_the_reference(int n)
    {
        var (global, updates) = Rounds.Random(n, n, 37);
        // Ties across members (including -0 and +0) must not break the ranking's permutation.
        for (var k = 0; k < n; k += 3)
        {
            var d = (float[])updates[k].Delta.ToArray();
            d[0] = 0.25f;
            d[1] = k % 2 == 0 ? 0f : -0f;
            updates[k] = new ClientUpdate(d, updates[k].SampleCount);
        }
        var expected = Reference(global, updates);
        new CoordinateMedian().Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Fact]
    public void Even_counts_take_the_mean_of_the_two_middle_values_and_ignore_sample_counts()
    {
        var global = new float[2];
        ClientUpdate[] updates =
        [
            new(new[] { 1f, -4f }, 1000), new(new[] { 10f, 0f }, 1), new(new[] { 2f, 2f }, 1), new(new[] { 3f, -1f }, 1),
        ];
        new CoordinateMedian().Aggregate(global, updates, default);
        Assert.Equal([2.5f, -0.5f], global);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public void Works_across_block_boundaries(int n)
    {
        var block = CoordinateBlocks.BlockLength(n);
        foreach (var p in new[] { 1, 2, block - 1, block, block + 1, (2 * block) + 3 })
        {
            var (global, updates) = Rounds.Random(p + n, n, p);
            var expected = Reference(global, updates);
            new CoordinateMedian().Aggregate(global, updates, default);
            Rounds.Close(expected, global, 1e-6);
        }
    }

    [Fact]
    public void Lies_between_the_smallest_and_largest_value_of_every_coordinate()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 64], Gen.Int).Sample((n, p, seed) =>
        {
            var (_, updates) = Rounds.Random(seed, n, p, scale: 1000);
            var global = new float[p];
            new CoordinateMedian().Aggregate(global, updates, default);
            return Enumerable.Range(0, p).All(c =>
                global[c] >= updates.Min(u => u.Delta.Span[c]) && global[c] <= updates.Max(u => u.Delta.Span[c]));
        });
    }

    [Fact]
    public void Ignores_one_huge_outlier_that_moves_FedAvg_far()
    {
        var (global, updates) = Rounds.WithOutlier(3, 6, 50);
        var fedAvg = global.ToArray();
        new FedAvg().Aggregate(fedAvg, updates, default);
        Assert.True(fedAvg.Zip(global).All(t => t.First - t.Second > 1000));

        var start = global.ToArray();
        new CoordinateMedian().Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0089, 0.0111));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic()
    {
        var (global, updates) = Rounds.Random(9, 11, 5000);
        var a = global.ToArray();
        var b = global.ToArray();
        new CoordinateMedian().Aggregate(a, updates, default);
        new CoordinateMedian().Aggregate(b, Rounds.Copy(updates), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
    }
}
