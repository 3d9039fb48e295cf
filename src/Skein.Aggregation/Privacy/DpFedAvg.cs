using System.Buffers;
using System.Numerics.Tensors;
using Skein.Core;

namespace Skein.Aggregation.Privacy;

/// <summary>
/// Central DP-FedAvg (McMahan, Ramage, Talwar and Zhang 2018) with the fixed-denominator estimator: each delta
/// is clipped to L2 norm S, the clipped deltas are summed with equal weight, N(0, (zS)^2) noise is added to
/// every coordinate of the sum, and the result divided by the expected number of clients per round is added to
/// the global parameters (times an optional server learning rate).
/// </summary>
/// <remarks>
/// <para>
/// With clients sampled independently with probability q, each round is one step of the sampled Gaussian
/// mechanism with noise multiplier z for user-level adjacency; account for it with
/// <c>RdpAccountant.Step(q, z)</c>. The denominator is fixed (qK, not the number of updates received) because
/// dividing by the realised count would make the output depend on whether a given client took part beyond what
/// the clipped sum reveals.
/// </para>
/// <para>
/// The noise is derived from <c>DeterministicRandom.Derive(context.Seed, "dp/noise", context.Round)</c>, so that
/// anyone can recompute the round from the published seed. The flip side: anyone who knows the seed can also
/// subtract the noise and recover the exact clipped sum, which voids the privacy guarantee. In production the
/// seed must therefore stay secret (known to the aggregator only) until the round is settled and its model
/// released, and be published only if the noise no longer needs to protect anyone.
/// </para>
/// <para>
/// Cost per round: O(nP) to check, measure and clip-and-add n updates of P parameters, plus O(P) to draw the
/// noise. Memory: one pooled P-float sum and small pooled scratch buffers; the callers' arrays are only read.
/// </para>
/// </remarks>
public sealed class DpFedAvg : IAggregationStrategy
{
    // Noise is drawn and the squared norms widened to double through pooled buffers of this many values (even,
    // so that noise pairs never straddle two chunks).
    private const int ChunkLength = 4096;

    /// <param name="clipNorm">S: the L2 norm every client delta is clipped to.</param>
    /// <param name="noiseMultiplier">z: the noise standard deviation in units of S (0 disables the noise).</param>
    /// <param name="expectedClients">qK: the expected number of clients per round, the fixed denominator.</param>
    /// <param name="serverLearningRate">The factor applied to the noisy average before it is added.</param>
    public DpFedAvg(double clipNorm, double noiseMultiplier, double expectedClients, double serverLearningRate = 1.0)
    {
        if (!(clipNorm > 0) || double.IsInfinity(clipNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "clip norm must be a finite number > 0");
        }
        if (!(noiseMultiplier >= 0) || double.IsInfinity(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "noise multiplier must be a finite number >= 0");
        }
        if (!(expectedClients > 0) || double.IsInfinity(expectedClients))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedClients), expectedClients, "expected clients must be a finite number > 0");
        }
        if (!(serverLearningRate > 0) || double.IsInfinity(serverLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(serverLearningRate), serverLearningRate, "server learning rate must be a finite number > 0");
        }
        ClipNorm = clipNorm;
        NoiseMultiplier = noiseMultiplier;
        ExpectedClients = expectedClients;
        ServerLearningRate = serverLearningRate;
    }

    /// <summary>The name a task spec uses.</summary>
    public const string StrategyName = "dpfedavg";

    public string Name => StrategyName;

    public double ClipNorm { get; }

    public double NoiseMultiplier { get; }

    public double ExpectedClients { get; }

    public double ServerLearningRate { get; }

    /// <summary>The standard deviation of the noise that one round adds to each coordinate of the global vector.</summary>
    public double NoiseStdDevPerCoordinate => ServerLearningRate * NoiseMultiplier * ClipNorm / ExpectedClients;

    /// <summary>The fraction of the last round's updates whose norm exceeded the clip norm (0 for an empty round).</summary>
    public double LastRoundClippedFraction { get; private set; }

    /// <remarks>
    /// Sample counts are ignored: weighting by them would let one client's influence grow with its data. An empty
    /// round is valid and adds noise only, since skipping it would reveal that nobody was sampled.
    /// </remarks>
    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var length = global.Length;
        var scales = new double[updates.Count];
        var clipped = 0;
        var wide = ArrayPool<double>.Shared.Rent(ChunkLength);
        try
        {
            // Everything that can fail is checked before global is touched.
            for (var i = 0; i < updates.Count; i++)
            {
                var delta = updates[i].Delta.Span;
                if (delta.Length != length)
                {
                    throw new ArgumentException($"update {i} has {delta.Length} values, expected {length}", nameof(updates));
                }
                var norm = Math.Sqrt(SquaredNorm(delta, wide.AsSpan(0, ChunkLength)));
                if (!double.IsFinite(norm))
                {
                    throw new ArgumentException($"update {i} contains a non-finite value", nameof(updates));
                }
                if (norm > ClipNorm)
                {
                    scales[i] = ClipNorm / norm;
                    clipped++;
                }
                else
                {
                    scales[i] = 1;
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(wide);
        }

        var sumArray = ArrayPool<float>.Shared.Rent(length);
        var noiseArray = NoiseMultiplier > 0 ? ArrayPool<float>.Shared.Rent(ChunkLength) : null;
        try
        {
            var sum = sumArray.AsSpan(0, length);
            sum.Clear();
            for (var i = 0; i < updates.Count; i++)
            {
                // The scale is never rounded up, so a clipped delta exceeds S by at most the float rounding of
                // its products (a relative 6e-8), even when the scale is subnormal in float.
                var scale = (float)scales[i];
                if (scale > scales[i])
                {
                    scale = MathF.BitDecrement(scale);
                }
                TensorPrimitives.MultiplyAdd(updates[i].Delta.Span, scale, sum, sum);
            }
            if (noiseArray is not null)
            {
                AddNoise(sum, noiseArray.AsSpan(0, ChunkLength), (float)(NoiseMultiplier * ClipNorm), context);
            }
            TensorPrimitives.MultiplyAdd(sum, (float)(ServerLearningRate / ExpectedClients), global, global);
        }
        finally
        {
            if (noiseArray is not null)
            {
                ArrayPool<float>.Shared.Return(noiseArray);
            }
            ArrayPool<float>.Shared.Return(sumArray);
        }
        LastRoundClippedFraction = updates.Count == 0 ? 0 : (double)clipped / updates.Count;
    }

    private static void AddNoise(Span<float> sum, Span<float> chunk, float stdDev, AggregationContext context)
    {
        var rng = DeterministicRandom.Derive(context.Seed, "dp/noise", context.Round);
        for (var start = 0; start < sum.Length; start += chunk.Length)
        {
            var target = sum.Slice(start, Math.Min(chunk.Length, sum.Length - start));
            var noise = chunk[..target.Length];
            GaussianNoise.FillStandardNormal(rng, noise);
            TensorPrimitives.MultiplyAdd(noise, stdDev, target, target);
        }
    }

    /// <summary>
    /// The squared L2 norm accumulated in double: a float sum over millions of coordinates can be off by more
    /// than the clipping is meant to guarantee, and cannot overflow here (float.MaxValue^2 times 2^31 is finite
    /// in double), so a non-finite result means a non-finite input.
    /// </summary>
    private static double SquaredNorm(ReadOnlySpan<float> values, Span<double> scratch)
    {
        var total = 0.0;
        for (var start = 0; start < values.Length; start += scratch.Length)
        {
            var part = values.Slice(start, Math.Min(scratch.Length, values.Length - start));
            var widened = scratch[..part.Length];
            TensorPrimitives.ConvertTruncating<float, double>(part, widened);
            total += TensorPrimitives.SumOfSquares<double>(widened);
        }
        return total;
    }
}
