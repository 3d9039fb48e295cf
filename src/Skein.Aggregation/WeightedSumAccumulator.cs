using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Streams updates into a weighted sum, one vector at a time, so that memory stays O(P) however many updates a
/// round has. The sum is float32 and taken in arrival order; the same order gives the same bits.
/// </summary>
public sealed class WeightedSumAccumulator
{
    private readonly float[] _sum;

    public WeightedSumAccumulator(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _sum = new float[length];
    }

    public int Length => _sum.Length;

    public double TotalWeight { get; private set; }

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<float> vector, double weight)
    {
        if (vector.Length != _sum.Length)
        {
            throw new ArgumentException($"update has {vector.Length} values, expected {_sum.Length}", nameof(vector));
        }
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "weight must be a finite number > 0");
        }
        TensorPrimitives.MultiplyAdd(vector, (float)weight, _sum, _sum);
        TotalWeight += weight;
        Count++;
    }

    /// <summary>Adds the weighted mean of everything added so far to <paramref name="destination"/>.</summary>
    public void AddMeanTo(Span<float> destination)
    {
        if (destination.Length != _sum.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} values, expected {_sum.Length}", nameof(destination));
        }
        if (Count == 0)
        {
            throw new InvalidOperationException("no updates were added");
        }
        TensorPrimitives.MultiplyAdd(_sum, (float)(1.0 / TotalWeight), destination, destination);
    }
}
