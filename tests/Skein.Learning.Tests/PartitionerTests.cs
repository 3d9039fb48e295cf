using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class PartitionerTests
{
    /// <summary>MNIST-like labels: 10 classes of slightly different sizes, in a scrambled order.</summary>
    private static byte[] Labels(int n)
    {
        var rng = new Random(1);
        return Enumerable.Range(0, n).Select(_ => (byte)rng.Next(10)).ToArray();
    }

    private static void AssertDisjointAndCovering(int[][] parts, int n)
    {
        var all = parts.SelectMany(p => p).ToArray();
        Assert.Equal(n, all.Length);
        Assert.Equal(n, all.Distinct().Count());
        Assert.Equal(0, all.Min());
        Assert.Equal(n - 1, all.Max());
        Assert.All(parts, p => Assert.Equal(p.Order(), p));
    }

    [Theory]
    [InlineData(60_000, 100)]
    [InlineData(1_003, 7)]
    public void Iid_is_disjoint_covering_and_balanced(int n, int clients)
    {
        var parts = DataPartitioner.Iid(n, clients, 3);
        Assert.Equal(clients, parts.Length);
        AssertDisjointAndCovering(parts, n);
        Assert.True(parts.Max(p => p.Length) - parts.Min(p => p.Length) <= 1);
    }

    [Fact]
    public void Shards_follow_the_paper_200_shards_of_300_two_per_client()
    {
        var labels = Labels(60_000);
        var parts = DataPartitioner.Shards(labels, 100, 2, 5);
        AssertDisjointAndCovering(parts, labels.Length);
        Assert.All(parts, p => Assert.Equal(600, p.Length));
        // Each shard of 300 label-sorted examples spans at most two labels, so a client sees at most four,
        // and most clients see exactly two (a shard rarely straddles a label boundary).
        var labelCounts = parts.Select(p => p.Select(i => labels[i]).Distinct().Count()).ToArray();
        Assert.All(labelCounts, c => Assert.InRange(c, 1, 4));
        Assert.True(labelCounts.Count(c => c <= 2) >= 70, $"only {labelCounts.Count(c => c <= 2)} of 100 clients have at most two labels");
    }

    [Fact]
    public void Shards_generalise_to_any_client_count()
    {
        var labels = Labels(60_000);
        var parts = DataPartitioner.Shards(labels, 10, 2, 5);
        AssertDisjointAndCovering(parts, labels.Length);
        Assert.All(parts, p => Assert.Equal(6_000, p.Length));
        Assert.All(parts, p => Assert.InRange(p.Select(i => labels[i]).Distinct().Count(), 1, 4));

        var odd = DataPartitioner.Shards(labels.AsSpan(0, 1_001), 7, 2, 5);
        AssertDisjointAndCovering(odd, 1_001);
    }

    [Fact]
    public void Dirichlet_is_disjoint_and_covering()
    {
        var labels = Labels(20_000);
        var parts = DataPartitioner.Dirichlet(labels, 10, 50, 0.5, 9);
        AssertDisjointAndCovering(parts, labels.Length);
        Assert.All(parts, p => Assert.True(p.Length >= 10));
    }

    [Fact]
    public void Dirichlet_skew_grows_as_alpha_shrinks()
    {
        var labels = Labels(20_000);
        var global = Histogram(labels, Enumerable.Range(0, labels.Length).ToArray());
        double Skew(double alpha)
        {
            var parts = DataPartitioner.Dirichlet(labels, 10, 20, alpha, 4);
            // Mean total-variation distance between each client's label distribution and the global one.
            return parts.Average(p => 0.5 * Histogram(labels, p).Zip(global).Sum(t => Math.Abs(t.First - t.Second)));
        }
        var skews = new[] { 100.0, 1.0, 0.1 }.Select(Skew).ToArray();
        Assert.True(skews[0] < skews[1] && skews[1] < skews[2], $"skews {string.Join(", ", skews)} should grow as alpha shrinks");
        Assert.True(skews[0] < 0.1, $"alpha 100 should be near IID, skew {skews[0]}");
        Assert.True(skews[2] > 0.5, $"alpha 0.1 should be far from IID, skew {skews[2]}");
    }

    [Fact]
    public void Same_seed_same_partition_other_seed_other_partition()
    {
        var labels = Labels(5_000);
        foreach (var kind in Enum.GetValues<PartitionKind>())
        {
            var a = DataPartitioner.Create(kind, labels, 10, 10, 1);
            var b = DataPartitioner.Create(kind, labels, 10, 10, 1);
            var c = DataPartitioner.Create(kind, labels, 10, 10, 2);
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
        }
    }

    [Fact]
    public void Impossible_requests_are_refused()
    {
        Assert.Throws<ArgumentException>(() => DataPartitioner.Iid(5, 6, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioner.Iid(5, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioner.Dirichlet(Labels(100), 10, 5, 0, 1));
        Assert.Throws<ArgumentException>(() => DataPartitioner.Shards(Labels(10), 6, 2, 1));
    }

    private static double[] Histogram(byte[] labels, int[] indices)
    {
        var h = new double[10];
        foreach (var i in indices)
        {
            h[labels[i]]++;
        }
        return h.Select(x => x / indices.Length).ToArray();
    }
}
