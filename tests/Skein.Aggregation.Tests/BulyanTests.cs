using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class BulyanTests
{
    /// <summary>
    /// El Mhamdi et al. 2018 the slow way: theta picks by Krum, each on what is left (neighbours r - f - 2, at least
    /// one), then per coordinate the beta values nearest the median (ties to the lower value), averaged.
    /// </summary>
    private static (int[] Selected, double[] Result) Reference(float[] global, ClientUpdate[] updates, int f)
    {
        var n = updates.Length;
        var theta = n - (2 * f);
        var beta = theta - (2 * f);
        var remaining = Enumerable.Range(0, n).ToList();
        var selected = new List<int>();
        while (selected.Count < theta)
        {
            var r = remaining.Count;
            var k = Math.Min(Math.Max(1, r - f - 2), r - 1);
            var best = remaining
                .Select(i => (Index: i, Score: remaining.Where(j => j != i)
                    .Select(j => Rounds.SquaredDistance(updates[i], updates[j])).Order().Take(k).Sum()))
                .OrderBy(t => t.Score).ThenBy(t => t.Index).First().Index;
            selected.Add(best);
            remaining.Remove(best);
        }
        var chosen = selected.Order().Select(i => updates[i]).ToArray();
        var result = global.Select((g, c) =>
        {
            var values = Rounds.Coordinate(chosen, c);
            var sorted = values.Order().ToArray();
            var median = sorted.Length % 2 == 1
                ? sorted[sorted.Length / 2]
                : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
            return g + values.OrderBy(v => Math.Abs(v - median)).ThenBy(v => v).Take(beta).Average();
        }).ToArray();
        return ([.. selected.Order()], result);
    }

    [Theory]
    [InlineData(1, 3, 6, 0)]
    [InlineData(2, 7, 9, 1)]
    [InlineData(3, 10, 33, 1)]
    [InlineData(4, 11, 20, 2)]
    [InlineData(5, 16, 3, 3)]
    public void Matches_the_reference(int seed, int n, int p, int f)
    {
        var (global, updates) = Rounds.Random(seed, n, p);
        var (selected, expected) = Reference(global, updates, f);
        Assert.Equal(selected, new Bulyan(f).Select(updates));
        new Bulyan(f).Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Fact]
    public void Works_across_block_boundaries()
    {
        const int n = 7;
        var block = CoordinateBlocks.BlockLength(n - 2);
        foreach (var p in new[] { 1, 2, block - 1, block, block + 1, (2 * block) + 5 })
        {
            var (global, updates) = Rounds.Random(p, n, p);
            var (_, expected) = Reference(global, updates, 1);
            new Bulyan(1).Aggregate(global, updates, default);
            Rounds.Close(expected, global, 1e-6);
        }
    }

    [Theory]
    [InlineData(new[] { 9f, 5f, 3f, 2.5f, 1f }, 3, (3 + 2.5 + 1) / 3)]
    [InlineData(new[] { 1f, 2.5f, 3f, 5f, 9f }, 5, (1 + 2.5 + 3 + 5 + 9) / 5)]
    [InlineData(new[] { 0f, 10f, 4f, 6f }, 2, 5.0)]
    [InlineData(new[] { 0f, 10f, 4f, 6f, -3f, 7f }, 3, (4 + 6 + 7) / 3.0)]
    [InlineData(new[] { 2f }, 1, 2.0)]
    public void Averages_the_values_nearest_the_median_with_ties_to_the_lower_value(float[] values, int beta, double expected)
    {
        // The rule receives sorted values. In the first case 1 and 5 are both 2 from the median 3 when one value is still to be taken.
        Assert.Equal(expected, new Bulyan.ClosestToMedianRule(beta).Reduce(values.Order().ToArray()), 1e-12);
    }

    [Fact]
    public void Ignores_one_huge_outlier_that_moves_FedAvg_far()
    {
        var (global, updates) = Rounds.WithOutlier(6, 6, 25);
        var start = global.ToArray();
        new Bulyan(1).Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0089, 0.0111));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic()
    {
        var (global, updates) = Rounds.Random(8, 11, 4100);
        var a = global.ToArray();
        var b = global.ToArray();
        new Bulyan(2).Aggregate(a, updates, default);
        new Bulyan(2).Aggregate(b, Rounds.Copy(updates), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
    }

    [Fact]
    public void Refuses_rounds_too_small_for_f()
    {
        var (global, updates) = Rounds.Random(1, 10, 4);
        var before = global.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => new Bulyan(2).Aggregate(global, updates, default));
        Assert.Contains("f = 2 needs at least 4f+3 = 11 updates, got 10", ex.Message);
        Assert.Equal(before, global);
        Assert.Equal("f", Assert.Throws<ArgumentOutOfRangeException>(() => new Bulyan(-1)).ParamName);
    }
}
