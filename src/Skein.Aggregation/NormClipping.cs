using System.Buffers;
using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Decorates another strategy: every delta whose L2 norm exceeds S is scaled down to norm S (into a pooled copy;
/// the caller's vectors are never written) before the inner strategy sees the round.
/// </summary>
/// <remarks>
/// The inner strategy must not keep references to the deltas after <see cref="Aggregate"/> returns: the clipped
/// copies go back to the pool then. None of the strategies here do.
/// </remarks>
public sealed class NormClipping : IAggregationStrategy
{
    /// <param name="inner">The strategy that aggregates the clipped deltas.</param>
    /// <param name="maxNorm">S, the largest L2 norm a delta may have; > 0.</param>
    public NormClipping(IAggregationStrategy inner, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        MaxNorm = ParameterRule.Positive.Check(maxNorm, nameof(maxNorm));
    }

    /// <summary>The inner strategy's name: clipping is a parameter of a spec, not a strategy of its own.</summary>
    public string Name => Inner.Name;

    public IAggregationStrategy Inner { get; }

    public double MaxNorm { get; }

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        var n = updates.Count;
        var length = global.Length;
        var clipped = new ClientUpdate[n];
        var rented = new float[]?[n];
        try
        {
            for (var i = 0; i < n; i++)
            {
                var u = updates[i];
                // The norm is summed in double in a fixed order, so the decision to clip is the same everywhere.
                var norm = Math.Sqrt(FixedOrderSum.SumOfSquares(u.Delta.Span));
                if (norm > MaxNorm)
                {
                    var copy = rented[i] = ArrayPool<float>.Shared.Rent(length);
                    TensorPrimitives.Multiply(u.Delta.Span, (float)(MaxNorm / norm), copy.AsSpan(0, length));
                    clipped[i] = new ClientUpdate(copy.AsMemory(0, length), u.SampleCount);
                }
                else
                {
                    clipped[i] = u;
                }
            }
            Inner.Aggregate(global, clipped, context);
        }
        finally
        {
            foreach (var buffer in rented)
            {
                if (buffer is not null)
                {
                    ArrayPool<float>.Shared.Return(buffer);
                }
            }
        }
    }
}
