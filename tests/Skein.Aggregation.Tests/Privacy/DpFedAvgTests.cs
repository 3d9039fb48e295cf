using Skein.Aggregation;
using Skein.Aggregation.Privacy;
using Skein.Core;

namespace Skein.Aggregation.Tests.Privacy;

public sealed class DpFedAvgTests
{
    /// <summary>Updates whose norms straddle the clip norm, so that some are clipped and some are not.</summary>
    private static (float[] Global, ClientUpdate[] Updates) RandomRound(int seed, int n, int p, double clipNorm)
    {
        var rng = new Random(seed);
        var global = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var updates = Enumerable.Range(0, n).Select(_ =>
        {
            var raw = Enumerable.Range(0, p).Select(_ => rng.NextDouble() - 0.5).ToArray();
            var norm = Math.Sqrt(raw.Sum(x => x * x));
            var target = clipNorm * (0.25 + (1.5 * rng.NextDouble()));
            return new ClientUpdate(raw.Select(x => (float)(x / norm * target)).ToArray(), rng.Next(1, 1000));
        }).ToArray();
        return (global, updates);
    }

    /// <summary>The definition without noise, in double: w + lr/m sum_k min(1, S/|d_k|) d_k.</summary>
    private static double[] Reference(float[] global, ClientUpdate[] updates, double clipNorm, double expectedClients, double lr)
    {
        var result = global.Select(g => (double)g).ToArray();
        foreach (var u in updates)
        {
            var d = u.Delta.ToArray();
            var norm = Math.Sqrt(d.Sum(x => (double)x * x));
            var scale = Math.Min(1, clipNorm / norm);
            for (var i = 0; i < result.Length; i++)
            {
                result[i] += lr / expectedClients * scale * d[i];
            }
        }
        return result;
    }

    private static float[] Change(float[] before, float[] after) => after.Zip(before, (a, b) => a - b).ToArray();

    [Theory]
    [InlineData(1, 1, 7, 0.5, 1.0, 1.0)]
    [InlineData(2, 3, 1, 0.1, 3.0, 1.0)]
    [InlineData(3, 10, 1001, 1.0, 12.5, 1.0)]
    [InlineData(4, 37, 4099, 0.05, 30.0, 0.7)]
    public void Without_noise_equals_clip_then_sum_over_expected_clients(int seed, int n, int p, double clipNorm, double m, double lr)
    {
        var (global, updates) = RandomRound(seed, n, p, clipNorm);
        var expected = Reference(global, updates, clipNorm, m, lr);
        var dp = new DpFedAvg(clipNorm, noiseMultiplier: 0, expectedClients: m, serverLearningRate: lr);
        dp.Aggregate(global, updates, new AggregationContext(3, 42));
        for (var i = 0; i < p; i++)
        {
            Assert.Equal(expected[i], global[i], 1e-6);
        }
    }

    [Fact]
    public void Clients_count_equally_whatever_their_sample_counts()
    {
        var global = new float[1];
        new DpFedAvg(10, 0, 2).Aggregate(global, [new ClientUpdate(new[] { 1f }, 3), new ClientUpdate(new[] { 5f }, 1000)], default);
        Assert.Equal(3f, global[0]);
    }

    [Fact]
    public void A_large_update_is_scaled_down_to_the_clip_norm_keeping_its_direction()
    {
        var delta = new[] { 300f, -400f, 0f, 1200f };  // norm 1300
        var global = new[] { 1f, 2f, 3f, 4f };
        var dp = new DpFedAvg(clipNorm: 2.6, noiseMultiplier: 0, expectedClients: 1);
        dp.Aggregate(global, [new ClientUpdate(delta, 1)], default);
        var change = Change([1f, 2f, 3f, 4f], global);
        Assert.Equal(0.6, change[0], 1e-5);
        Assert.Equal(-0.8, change[1], 1e-5);
        Assert.Equal(0.0, change[2], 1e-6);
        Assert.Equal(2.4, change[3], 1e-5);
        Assert.Equal(1.0, dp.LastRoundClippedFraction);
    }

    [Fact]
    public void Reports_the_fraction_of_clipped_updates()
    {
        var dp = new DpFedAvg(clipNorm: 1, noiseMultiplier: 0, expectedClients: 4);
        ClientUpdate[] updates =
        [
            new(new[] { 0.5f, 0f }, 1),
            new(new[] { 3f, 4f }, 1),
            new(new[] { 0f, 1f }, 1),  // exactly on the bound: not clipped
            new(new[] { 0f, -7f }, 1),
        ];
        dp.Aggregate(new float[2], updates, default);
        Assert.Equal(0.5, dp.LastRoundClippedFraction);
        dp.Aggregate(new float[2], [], default);
        Assert.Equal(0.0, dp.LastRoundClippedFraction);
    }

    [Fact]
    public void Noise_is_reproducible_from_seed_and_round_and_differs_between_rounds_and_seeds()
    {
        var (global, updates) = RandomRound(5, 8, 10_001, 1.0);
        float[] Run(ulong seed, long round)
        {
            var g = global.ToArray();
            new DpFedAvg(1.0, 1.1, 8).Aggregate(g, updates, new AggregationContext(round, seed));
            return g;
        }
        var a = Run(77, 4);
        var b = Run(77, 4);
        Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
        var otherRound = Run(77, 5);
        var otherSeed = Run(78, 4);
        Assert.True(a.Zip(otherRound).Count(t => t.First != t.Second) > 9_900);
        Assert.True(a.Zip(otherSeed).Count(t => t.First != t.Second) > 9_900);
    }

    [Fact]
    public void Noise_depends_only_on_seed_round_and_length_not_on_the_updates()
    {
        var (global, updates) = RandomRound(6, 5, 2_001, 0.3);
        var context = new AggregationContext(11, 1234);
        var noisy = global.ToArray();
        new DpFedAvg(0.3, 2.0, 5).Aggregate(noisy, updates, context);
        var clean = global.ToArray();
        new DpFedAvg(0.3, 0.0, 5).Aggregate(clean, updates, context);
        var noiseOnly = new float[global.Length];
        new DpFedAvg(0.3, 2.0, 5).Aggregate(noiseOnly, [], context);
        for (var i = 0; i < global.Length; i++)
        {
            Assert.Equal(noiseOnly[i], noisy[i] - clean[i], 1e-5);
        }
    }

    [Fact]
    public void Noise_is_a_fixed_stream_over_coordinates_so_a_prefix_is_a_prefix()
    {
        var context = new AggregationContext(2, 99);
        var longer = new float[10_000];
        new DpFedAvg(1, 1, 1).Aggregate(longer, [], context);
        var shorter = new float[5_001];
        new DpFedAvg(1, 1, 1).Aggregate(shorter, [], context);
        Assert.Equal(longer.AsSpan(0, 5_000).ToArray(), shorter.AsSpan(0, 5_000).ToArray());
    }

    [Fact]
    public void Noise_on_the_average_has_mean_zero_and_std_z_S_over_expected_clients()
    {
        const int p = 400_000;
        const double z = 1.1, s = 0.5, m = 10, lr = 0.8;
        var dp = new DpFedAvg(s, z, m, lr);
        var global = new float[p];
        dp.Aggregate(global, [], new AggregationContext(7, 2024));
        var mean = global.Average(x => (double)x);
        var std = Math.Sqrt(global.Sum(x => ((double)x - mean) * ((double)x - mean)) / (p - 1));
        var expected = lr * z * s / m;
        Assert.Equal(expected, dp.NoiseStdDevPerCoordinate, 1e-12);
        // The sample std of 400k normals is within 0.5% of the truth with overwhelming probability (sd 0.11%).
        Assert.InRange(std / expected, 0.995, 1.005);
        Assert.InRange(Math.Abs(mean), 0, 5 * expected / Math.Sqrt(p));
        // Tails as a normal's: about 4.55% beyond two standard deviations.
        var beyond2 = global.Count(x => Math.Abs(x) > 2 * expected) / (double)p;
        Assert.InRange(beyond2, 0.043, 0.048);
    }

    [Fact]
    public void Leaves_the_callers_deltas_untouched()
    {
        var (global, updates) = RandomRound(8, 6, 513, 0.2);
        var copies = updates.Select(u => u.Delta.ToArray()).ToArray();
        new DpFedAvg(0.2, 1.5, 6).Aggregate(global, updates, new AggregationContext(1, 1));
        for (var i = 0; i < updates.Length; i++)
        {
            Assert.Equal(copies[i], updates[i].Delta.ToArray());
        }
    }

    [Theory]
    [InlineData(0.0, 1.0, 1.0, 1.0, "clipNorm")]
    [InlineData(-1.0, 1.0, 1.0, 1.0, "clipNorm")]
    [InlineData(double.NaN, 1.0, 1.0, 1.0, "clipNorm")]
    [InlineData(double.PositiveInfinity, 1.0, 1.0, 1.0, "clipNorm")]
    [InlineData(1.0, -0.1, 1.0, 1.0, "noiseMultiplier")]
    [InlineData(1.0, double.NaN, 1.0, 1.0, "noiseMultiplier")]
    [InlineData(1.0, double.PositiveInfinity, 1.0, 1.0, "noiseMultiplier")]
    [InlineData(1.0, 1.0, 0.0, 1.0, "expectedClients")]
    [InlineData(1.0, 1.0, double.NaN, 1.0, "expectedClients")]
    [InlineData(1.0, 1.0, double.PositiveInfinity, 1.0, "expectedClients")]
    [InlineData(1.0, 1.0, 1.0, 0.0, "serverLearningRate")]
    [InlineData(1.0, 1.0, 1.0, double.NaN, "serverLearningRate")]
    public void Refuses_invalid_parameters_naming_them(double s, double z, double m, double lr, string name)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new DpFedAvg(s, z, m, lr));
        Assert.Equal(name, ex.ParamName);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Refuses_a_non_finite_update_naming_its_index_and_leaves_global_untouched(float bad)
    {
        var global = new[] { 1f, 2f, 3f };
        var poisoned = new[] { 0f, bad, 0f };
        ClientUpdate[] updates = [new(new[] { 1f, 1f, 1f }, 1), new(new[] { 2f, 2f, 2f }, 1), new(poisoned, 1)];
        var ex = Assert.Throws<ArgumentException>(() => new DpFedAvg(1, 1, 3).Aggregate(global, updates, default));
        Assert.Contains("update 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal("updates", ex.ParamName);
        Assert.Equal([1f, 2f, 3f], global);
    }

    [Fact]
    public void Huge_but_finite_updates_are_clipped_not_refused()
    {
        var global = new float[2];
        new DpFedAvg(1, 0, 1).Aggregate(global, [new ClientUpdate(new[] { float.MaxValue, float.MaxValue }, 1)], default);
        // The clip scale, 2e-39, is subnormal in float: a little precision goes, but never upwards.
        Assert.InRange(global[0], Math.Sqrt(0.5) - 1e-5, Math.Sqrt(0.5) + 1e-7);
        Assert.Equal(global[0], global[1]);
    }

    [Fact]
    public void Refuses_wrong_lengths_and_null_updates_leaving_global_untouched()
    {
        var global = new[] { 1f, 2f, 3f };
        var ex = Assert.Throws<ArgumentException>(() =>
            new DpFedAvg(1, 1, 2).Aggregate(global, [new ClientUpdate(new float[3], 1), new ClientUpdate(new float[2], 1)], default));
        Assert.Contains("update 1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new DpFedAvg(1, 1, 2).Aggregate(global, null!, default));
        Assert.Equal([1f, 2f, 3f], global);
    }

    [Fact]
    public void Is_an_aggregation_strategy_named_dp_fedavg()
    {
        IAggregationStrategy strategy = new DpFedAvg(1, 1, 1);
        Assert.Equal("dpfedavg", strategy.Name);
    }

    [Fact]
    public void Gaussian_fill_gives_the_same_stream_in_even_chunks_as_in_one_go()
    {
        var whole = new float[1_001];
        GaussianNoise.FillStandardNormal(DeterministicRandom.Derive(5, "dp/noise", 1), whole);
        var pieces = new float[1_001];
        var rng = DeterministicRandom.Derive(5, "dp/noise", 1);
        GaussianNoise.FillStandardNormal(rng, pieces.AsSpan(0, 400));
        GaussianNoise.FillStandardNormal(rng, pieces.AsSpan(400, 600));
        GaussianNoise.FillStandardNormal(rng, pieces.AsSpan(1_000));
        Assert.Equal(whole, pieces);
    }
}
