using System.Buffers;
using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>How an adaptive server optimizer updates its second moment v from the squared pseudo-gradient.</summary>
internal enum SecondMoment
{
    /// <summary>v ← v + Δ².</summary>
    Adagrad,

    /// <summary>v ← β₂·v + (1 - β₂)·Δ².</summary>
    Adam,

    /// <summary>v ← v - (1 - β₂)·Δ²·sign(v - Δ²).</summary>
    Yogi,
}

/// <summary>
/// Algorithm 2 of Reddi et al. 2021 ("Adaptive Federated Optimization"), shared by FedAdagrad, FedAdam and FedYogi.
/// The pseudo-gradient Δ is the sample-weighted mean delta, streamed through a <see cref="WeightedSumAccumulator"/>;
/// beyond the 2·P floats of state a round uses O(P) memory (the accumulator and two pooled buffers).
/// </summary>
/// <remarks>
/// m starts at zero and v at τ², the smallest start Algorithm 2 allows (v₋₁ ≥ τ²). No Adam-style bias correction
/// is applied: the paper has none (Flower's FedAdam adds one; its FedAdagrad and FedYogi do not).
/// </remarks>
internal sealed class AdaptiveServerOptimizer(SecondMoment rule, double eta, double beta1, double beta2, double tau)
{
    private float[]? _m;
    private float[]? _v;

    public float[]? FirstMoment => (float[]?)_m?.Clone();

    public float[]? SecondMomentVector => (float[]?)_v?.Clone();

    public void Step(string strategy, Span<float> global, IReadOnlyList<ClientUpdate> updates)
    {
        RoundInput.Check(strategy, global, updates);
        RoundInput.CheckStateLength(strategy, _m, global);
        var length = global.Length;
        var mean = new WeightedSumAccumulator(length);
        foreach (var u in updates)
        {
            mean.Add(u.Delta.Span, u.SampleCount);
        }
        if (_m is null || _v is null)
        {
            _m = new float[length];
            _v = new float[length];
            Array.Fill(_v, (float)(tau * tau));
        }
        var deltaBuffer = ArrayPool<float>.Shared.Rent(length);
        var workBuffer = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var delta = deltaBuffer.AsSpan(0, length);
            var work = workBuffer.AsSpan(0, length);
            delta.Clear();
            mean.AddMeanTo(delta);

            var m = _m.AsSpan();
            TensorPrimitives.Multiply(m, (float)beta1, m);
            TensorPrimitives.MultiplyAdd(delta, (float)(1 - beta1), m, m);

            var v = _v.AsSpan();
            TensorPrimitives.Multiply(delta, delta, work);
            switch (rule)
            {
                case SecondMoment.Adagrad:
                    TensorPrimitives.Add(v, work, v);
                    break;
                case SecondMoment.Adam:
                    TensorPrimitives.Multiply(v, (float)beta2, v);
                    TensorPrimitives.MultiplyAdd(work, (float)(1 - beta2), v, v);
                    break;
                case SecondMoment.Yogi:
                    YogiStep(v, work, (float)(1 - beta2));
                    break;
                default:
                    throw new InvalidOperationException($"unknown second-moment rule {rule}");
            }

            // global += eta * m / (sqrt(v) + tau)
            TensorPrimitives.Sqrt(v, work);
            TensorPrimitives.Add(work, (float)tau, work);
            TensorPrimitives.Divide(m, work, work);
            TensorPrimitives.MultiplyAdd(work, (float)eta, global, global);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(deltaBuffer);
            ArrayPool<float>.Shared.Return(workBuffer);
        }
    }

    public void Reset()
    {
        _m = null;
        _v = null;
    }

    private static void YogiStep(Span<float> v, ReadOnlySpan<float> squared, float rate)
    {
        for (var i = 0; i < v.Length; i++)
        {
            var s = squared[i];
            var difference = v[i] - s;
            // Not MathF.Sign: it throws on NaN, which an overflowed Δ² could produce (inf - inf).
            var sign = difference > 0 ? 1f : difference < 0 ? -1f : 0f;
            v[i] -= rate * s * sign;
        }
    }
}
