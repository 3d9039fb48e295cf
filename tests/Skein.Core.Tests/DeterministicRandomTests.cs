using Skein.Core;

namespace Skein.Core.Tests;

public sealed class DeterministicRandomTests
{
    [Fact]
    public void Same_seed_gives_same_stream_and_different_seeds_differ()
    {
        var a = new DeterministicRandom(7);
        var b = new DeterministicRandom(7);
        var c = new DeterministicRandom(8);
        var sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(sa, Enumerable.Range(0, 100).Select(_ => b.NextUInt64()));
        Assert.NotEqual(sa, Enumerable.Range(0, 100).Select(_ => c.NextUInt64()));
    }

    [Fact]
    public void Derived_streams_depend_on_purpose_and_index()
    {
        var x = DeterministicRandom.Derive(1, "sample", 3).NextUInt64();
        Assert.Equal(x, DeterministicRandom.Derive(1, "sample", 3).NextUInt64());
        Assert.NotEqual(x, DeterministicRandom.Derive(1, "sample", 4).NextUInt64());
        Assert.NotEqual(x, DeterministicRandom.Derive(1, "shuffle", 3).NextUInt64());
        Assert.NotEqual(x, DeterministicRandom.Derive(2, "sample", 3).NextUInt64());
    }

    [Fact]
    public void NextInt_is_in_range_and_roughly_uniform()
    {
        var rng = new DeterministicRandom(3);
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++)
        {
            counts[rng.NextInt(10)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void Sample_without_replacement_is_distinct_sorted_and_in_range()
    {
        var rng = new DeterministicRandom(5);
        for (var trial = 0; trial < 50; trial++)
        {
            var s = rng.SampleWithoutReplacement(100, 10);
            Assert.Equal(10, s.Distinct().Count());
            Assert.Equal(s.Order(), s);
            Assert.All(s, v => Assert.InRange(v, 0, 99));
        }
        Assert.Equal(Enumerable.Range(0, 7), rng.SampleWithoutReplacement(7, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.SampleWithoutReplacement(3, 4));
    }

    [Theory]
    [InlineData(100_000, 100)]
    [InlineData(100_000, 6_249)]
    [InlineData(1_000, 100)]
    [InlineData(20, 5)]
    public void Sampling_a_few_of_many_gives_the_values_of_the_full_partial_shuffle(int n, int k)
    {
        // The reference: the O(n) partial Fisher-Yates the sampler used before it learned to keep only displaced positions.
        var reference = new DeterministicRandom(17);
        var all = Enumerable.Range(0, n).ToArray();
        for (var i = 0; i < k; i++)
        {
            var j = i + reference.NextInt(n - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        Assert.Equal(all.Take(k).Order(), new DeterministicRandom(17).SampleWithoutReplacement(n, k));
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(4.5)]
    public void Gamma_has_the_right_mean_and_variance(double shape)
    {
        var rng = new DeterministicRandom(11);
        const int n = 200_000;
        var xs = Enumerable.Range(0, n).Select(_ => rng.NextGamma(shape)).ToArray();
        var mean = xs.Average();
        var variance = xs.Select(x => (x - mean) * (x - mean)).Sum() / (n - 1);
        Assert.InRange(mean, shape * 0.97, shape * 1.03);
        Assert.InRange(variance, shape * 0.93, shape * 1.07);
        Assert.All(xs, x => Assert.True(x >= 0));
    }

    [Fact]
    public void Gaussian_has_zero_mean_and_unit_variance()
    {
        var rng = new DeterministicRandom(12);
        var xs = Enumerable.Range(0, 200_000).Select(_ => rng.NextGaussian()).ToArray();
        var mean = xs.Average();
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(xs.Select(x => (x - mean) * (x - mean)).Average(), 0.98, 1.02);
    }
}
