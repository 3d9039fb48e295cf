using CsCheck;
using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class KrumTests
{
    /// <summary>Blanchard et al. 2017 the slow way: every score from scratch in double.</summary>
    private static double[] Scores(ClientUpdate[] updates, int f)
    {
        var n = updates.Length;
        return Enumerable.Range(0, n)
            .Select(i => Enumerable.Range(0, n).Where(j => j != i)
                .Select(j => Rounds.SquaredDistance(updates[i], updates[j]))
                .Order()
                .Take(n - f - 2)
                .Sum())
            .ToArray();
    }

    private static int[] Ranking(ClientUpdate[] updates, int f)
    {
        var scores = Scores(updates, f);
        return Enumerable.Range(0, updates.Length).OrderBy(i => scores[i]).ThenBy(i => i).ToArray();
    }

    [Theory]
    [InlineData(1, 3, 5, 0)]
    [InlineData(2, 5, 8, 1)]
    [InlineData(3, 9, 30, 3)]
    [InlineData(4, 12, 1, 2)]
    public void Krum_applies_the_lowest_scoring_delta(int seed, int n, int p, int f)
    {
        var (global, updates) = Rounds.Random(seed, n, p);
        var chosen = Ranking(updates, f)[0];
        Assert.Equal(chosen, new Krum(f).Select(updates));
        var expected = global.Select((g, i) => g + (double)updates[chosen].Delta.Span[i]).ToArray();
        new Krum(f).Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-7);
    }

    [Theory]
    [InlineData(1, 5, 8, 1, null)]
    [InlineData(2, 9, 30, 3, null)]
    [InlineData(3, 9, 30, 3, 2)]
    [InlineData(4, 7, 3, 2, 7)]
    [InlineData(5, 12, 2049, 2, 1)]
    public void Multi_Krum_averages_the_m_lowest_scoring_deltas(int seed, int n, int p, int f, int? m)
    {
        var (global, updates) = Rounds.Random(seed, n, p);
        var kept = Ranking(updates, f).Take(m ?? (n - f)).ToArray();
        var expected = global.Select((g, i) => g + kept.Average(k => (double)updates[k].Delta.Span[i])).ToArray();
        new MultiKrum(f, m).Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Fact]
    public void Ties_go_to_the_lowest_index()
    {
        // Four identical deltas and one far away: the four all score 0.
        var same = new[] { 1f, 2f };
        ClientUpdate[] updates = [new(new[] { 9f, 9f }, 1), new(same, 1), new(same, 1), new(same, 1), new(same, 1)];
        Assert.Equal(1, new Krum(1).Select(updates));
        Assert.Equal([1, 2], new MultiKrum(1, 2).Select(updates));
    }

    [Fact]
    public void Multi_Krum_without_Byzantine_updates_and_m_equal_n_is_the_unweighted_mean()
    {
        Gen.Select(Gen.Int[3, 10], Gen.Int[1, 40], Gen.Int).Sample((n, p, seed) =>
        {
            var (global, updates) = Rounds.Random(seed, n, p);
            var expected = global.Select((g, c) => g + Rounds.Coordinate(updates, c).Average()).ToArray();
            new MultiKrum(0, n).Aggregate(global, updates, default);
            return Rounds.AreClose(expected, global, 1e-6);
        });
    }

    [Fact]
    public void Krum_and_Multi_Krum_ignore_one_huge_outlier_that_moves_FedAvg_far()
    {
        var (global, updates) = Rounds.WithOutlier(5, 6, 40);
        var start = global.ToArray();
        new Krum(1).Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0089, 0.0111));

        global = start.ToArray();
        new MultiKrum(1).Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0089, 0.0111));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic()
    {
        var (global, updates) = Rounds.Random(6, 9, 4099);
        var a = global.ToArray();
        var b = global.ToArray();
        new MultiKrum(2).Aggregate(a, updates, default);
        new MultiKrum(2).Aggregate(b, Rounds.Copy(updates), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
        a = global.ToArray();
        b = global.ToArray();
        new Krum(2).Aggregate(a, updates, default);
        new Krum(2).Aggregate(b, Rounds.Copy(updates), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
    }

    [Fact]
    public void Squared_distances_match_the_definition_for_every_tail_length()
    {
        var rng = new Random(3);
        for (var p = 0; p < 40; p++)
        {
            var x = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray();
            var y = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray();
            var expected = Rounds.SquaredDistance(new ClientUpdate(x, 1), new ClientUpdate(y, 1));
            Assert.Equal(expected, FixedOrderSum.SquaredDistance(x, y), expected * 1e-12);
            Assert.Equal(Math.Pow(Rounds.Norm(x), 2), FixedOrderSum.SumOfSquares(x), expected * 1e-12 + 1e-12);
        }
    }

    [Fact]
    public void Refuses_rounds_too_small_for_f()
    {
        var (global, updates) = Rounds.Random(1, 6, 4);
        var before = global.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => new Krum(2).Aggregate(global, updates, default));
        Assert.Contains("f = 2 needs at least 2f+3 = 7 updates, got 6", ex.Message);
        Assert.Throws<ArgumentException>(() => new MultiKrum(2).Aggregate(global, updates, default));
        var tooMany = Assert.Throws<ArgumentException>(() => new MultiKrum(1, 7).Aggregate(global, updates, default));
        Assert.Contains("m = 7 is more than the 6 updates", tooMany.Message);
        Assert.Equal(before, global);
        new Krum(1).Aggregate(global, updates, default);
    }

    [Fact]
    public void Refuses_bad_parameters()
    {
        Assert.Equal("f", Assert.Throws<ArgumentOutOfRangeException>(() => new Krum(-1)).ParamName);
        Assert.Equal("f", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiKrum(-1)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiKrum(1, 0)).ParamName);
    }
}
