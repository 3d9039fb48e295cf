using CsCheck;
using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class NormClippingTests
{
    /// <summary>Records what the inner strategy was given, copied, and applies nothing.</summary>
    private sealed class Recorder : IAggregationStrategy
    {
        public List<float[]> Seen { get; } = [];

        public string Name => "recorder";

        public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context) =>
            Seen.AddRange(updates.Select(u => u.Delta.ToArray()));
    }

    [Theory]
    [InlineData(1, 6, 20, 0.1)]
    [InlineData(2, 3, 1, 0.01)]
    [InlineData(3, 9, 300, 10.0)]
    public void Clipped_FedAvg_matches_the_reference(int seed, int n, int p, double maxNorm)
    {
        var (global, updates) = Rounds.Random(seed, n, p);
        var clipped = updates.Select(u =>
        {
            var norm = Rounds.Norm(u.Delta.Span);
            var scale = norm > maxNorm ? maxNorm / norm : 1.0;
            return (Delta: Rounds.ToDouble(u.Delta.Span).Select(v => v * scale).ToArray(), u.SampleCount);
        }).ToArray();
        var total = updates.Sum(u => (double)u.SampleCount);
        var expected = global.Select((g, i) => g + clipped.Sum(c => c.SampleCount / total * c.Delta[i])).ToArray();

        new NormClipping(new FedAvg(), maxNorm).Aggregate(global, updates, default);
        Rounds.Close(expected, global, 1e-6);
    }

    [Fact]
    public void Scales_long_deltas_to_the_bound_passes_short_ones_through_and_never_writes_the_callers_arrays()
    {
        var longDelta = new[] { 3f, 4f };
        var shortDelta = new[] { 0.3f, 0.4f };
        ClientUpdate[] updates = [new(longDelta, 2), new(shortDelta, 5)];
        var recorder = new Recorder();
        new NormClipping(recorder, 1.0).Aggregate(new float[2], updates, default);
        Assert.Equal([0.6f, 0.8f], recorder.Seen[0]);
        Assert.Equal([0.3f, 0.4f], recorder.Seen[1]);
        Assert.Equal([3f, 4f], longDelta);
    }

    [Fact]
    public void Every_delta_the_inner_strategy_sees_is_within_the_bound()
    {
        Gen.Select(Gen.Int[1, 8], Gen.Int[1, 200], Gen.Double[0.001, 5], Gen.Int).Sample((n, p, s, seed) =>
        {
            var (global, updates) = Rounds.Random(seed, n, p, scale: 2);
            var recorder = new Recorder();
            new NormClipping(recorder, s).Aggregate(global, updates, default);
            return recorder.Seen.All(d => Rounds.Norm(d) <= s * (1 + 1e-6));
        });
    }

    [Fact]
    public void Bounds_the_pull_of_one_huge_outlier()
    {
        var (global, updates) = Rounds.WithOutlier(2, 9, 16);
        var start = global.ToArray();
        // Honest norms are about 0.04; the outlier's 4e6 is cut to 0.05, a tenth of which reaches the mean.
        new NormClipping(new FedAvg(), 0.05).Aggregate(global, updates, default);
        Assert.All(global.Zip(start), t => Assert.InRange(t.First - t.Second, 0.0, 0.0125));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic_and_keeps_the_inner_state_across_rounds()
    {
        var (global, first) = Rounds.Random(4, 7, 999, scale: 1);
        var (_, second) = Rounds.Random(5, 7, 999, scale: 1);
        var a = global.ToArray();
        var b = global.ToArray();
        var sa = new NormClipping(new FedAdam(), 0.5);
        var sb = new NormClipping(new FedAdam(), 0.5);
        sa.Aggregate(a, first, default);
        sa.Aggregate(a, second, default);
        sb.Aggregate(b, Rounds.Copy(first), default);
        sb.Aggregate(b, Rounds.Copy(second), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
        Assert.Equal("fedadam", sa.Name);
    }

    [Fact]
    public void Refuses_bad_parameters_and_bad_rounds()
    {
        Assert.Throws<ArgumentNullException>(() => new NormClipping(null!, 1));
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => new NormClipping(new FedAvg(), 0)).ParamName);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentOutOfRangeException>(() => new NormClipping(new FedAvg(), double.PositiveInfinity)).ParamName);
        var recorder = new Recorder();
        var global = new float[2];
        Assert.Throws<ArgumentException>(() => new NormClipping(recorder, 1).Aggregate(global, [new ClientUpdate(new[] { float.NaN, 0f }, 1)], default));
        Assert.Empty(recorder.Seen);
    }
}
