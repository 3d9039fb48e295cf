using CsCheck;
using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class FedAvgTests
{
    private static (float[] Global, ClientUpdate[] Updates) RandomRound(int seed, int n, int p)
    {
        var rng = new Random(seed);
        var global = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var updates = Enumerable.Range(0, n)
            .Select(_ => new ClientUpdate(Enumerable.Range(0, p).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.1)).ToArray(), rng.Next(1, 1000)))
            .ToArray();
        return (global, updates);
    }

    /// <summary>The definition, in double precision: w + sum_k (n_k / n) delta_k.</summary>
    private static double[] Reference(float[] global, ClientUpdate[] updates)
    {
        var total = updates.Sum(u => (double)u.SampleCount);
        var result = global.Select(g => (double)g).ToArray();
        foreach (var u in updates)
        {
            var d = u.Delta.Span;
            for (var i = 0; i < result.Length; i++)
            {
                result[i] += u.SampleCount / total * d[i];
            }
        }
        return result;
    }

    [Theory]
    [InlineData(1, 1, 7)]
    [InlineData(2, 3, 1)]
    [InlineData(3, 10, 1001)]
    [InlineData(4, 37, 4099)]
    public void Equals_the_sample_weighted_mean(int seed, int n, int p)
    {
        var (global, updates) = RandomRound(seed, n, p);
        var expected = Reference(global, updates);
        new FedAvg().Aggregate(global, updates, default);
        for (var i = 0; i < p; i++)
        {
            Assert.Equal(expected[i], global[i], 1e-6);
        }
    }

    [Fact]
    public void Weighted_mean_property_holds_for_random_rounds()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[1, 300], Gen.Int).Sample((n, p, seed) =>
        {
            var (global, updates) = RandomRound(seed, n, p);
            var expected = Reference(global, updates);
            new FedAvg().Aggregate(global, updates, default);
            return expected.Zip(global).All(t => Math.Abs(t.First - t.Second) < 1e-5);
        });
    }

    [Fact]
    public void Equal_weights_of_identical_updates_give_that_update()
    {
        var delta = new[] { 1f, -2f, 0.5f };
        var global = new[] { 10f, 10f, 10f };
        new FedAvg().Aggregate(global, [new ClientUpdate(delta, 5), new ClientUpdate(delta, 5)], default);
        Assert.Equal([11f, 8f, 10.5f], global);
    }

    [Fact]
    public void Sample_counts_weight_the_mean()
    {
        var global = new float[1];
        new FedAvg().Aggregate(global, [new ClientUpdate(new[] { 1f }, 3), new ClientUpdate(new[] { 5f }, 1)], default);
        Assert.Equal(2f, global[0]);
    }

    [Fact]
    public void Is_bit_for_bit_deterministic_for_the_same_inputs_in_the_same_order()
    {
        var (global, updates) = RandomRound(9, 25, 100_003);
        var a = global.ToArray();
        var b = global.ToArray();
        new FedAvg().Aggregate(a, updates, default);
        new FedAvg().Aggregate(b, updates.Select(u => new ClientUpdate(u.Delta.ToArray(), u.SampleCount)).ToArray(), default);
        Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
        Assert.NotEqual(global, a);
    }

    [Theory]
    [InlineData(2, 300_001)]
    [InlineData(4, 199_210)]
    [InlineData(3, 1_000)]
    public void Averaging_blocks_in_parallel_gives_the_bits_of_the_sequential_pass(int parallelism, int length)
    {
        var (global, updates) = RandomRound(21, 11, length);
        var sequential = global.ToArray();
        var parallel = global.ToArray();
        new FedAvg().Aggregate(sequential, updates, default);
        new FedAvg { MaxDegreeOfParallelism = parallelism }.Aggregate(parallel, updates, default);
        Assert.Equal(sequential.Select(BitConverter.SingleToInt32Bits), parallel.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Refuses_empty_rounds_wrong_lengths_and_non_positive_counts()
    {
        var global = new float[3];
        Assert.Throws<ArgumentException>(() => new FedAvg().Aggregate(global, [], default));
        Assert.Throws<ArgumentException>(() => new FedAvg().Aggregate(global, [new ClientUpdate(new float[2], 1)], default));
        var ex = Assert.Throws<ArgumentException>(() => new FedAvg().Aggregate(global, [new ClientUpdate(new float[3], 0)], default));
        Assert.Contains("sample count", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new float[3], global);
    }
}

public sealed class BlockedWeightedSumTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(65_535, 7)]
    [InlineData(65_536, 8)]
    [InlineData(140_001, 9)]
    [InlineData(33, 4)]
    [InlineData(5, 3)]
    public void Gives_the_same_bits_as_the_streaming_accumulator(int p, int n)
    {
        var rng = new Random(p);
        var updates = Enumerable.Range(0, n)
            .Select(_ => new ClientUpdate(Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), rng.Next(1, 500)))
            .ToArray();
        var blocked = Enumerable.Range(0, p).Select(i => i * 1e-3f).ToArray();
        var streamed = blocked.ToArray();

        BlockedWeightedSum.AddWeightedMeanTo(blocked, updates);
        var accumulator = new WeightedSumAccumulator(p);
        foreach (var u in updates)
        {
            accumulator.Add(u.Delta.Span, u.SampleCount);
        }
        accumulator.AddMeanTo(streamed);

        Assert.Equal(streamed.Select(BitConverter.SingleToInt32Bits), blocked.Select(BitConverter.SingleToInt32Bits));
    }
}
