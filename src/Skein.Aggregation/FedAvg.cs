using System.Buffers;
using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Federated averaging (McMahan et al. 2017): the new global parameters are the old ones plus the mean of the
/// client deltas weighted by their sample counts.
/// </summary>
/// <remarks>
/// The mean is taken in one blocked pass over the updates (<see cref="BlockedWeightedSum"/>) into a scratch copy
/// of the global vector; only if that copy is finite does it replace the global vector. A NaN or infinity in any
/// update, or an overflow, therefore costs no second pass in the common case and leaves the global vector as it was.
/// </remarks>
public sealed class FedAvg : IAggregationStrategy
{
    public string Name => "fedavg";

    /// <summary>
    /// Blocks of coordinates averaged at once (default 1). The result is the same bits whatever the value; the
    /// simulator raises it, where a round's 100 updates are read while the training workers are idle.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = 1;

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.CheckShape(Name, global, updates);
        var scratch = ArrayPool<float>.Shared.Rent(global.Length);
        try
        {
            var result = scratch.AsSpan(0, global.Length);
            global.CopyTo(result);
            BlockedWeightedSum.AddWeightedMeanTo(scratch.AsMemory(0, global.Length), updates, MaxDegreeOfParallelism);
            if (!TensorPrimitives.IsFiniteAll(result))
            {
                RoundInput.Check(Name, global, updates); // names the non-finite input, if there is one
                throw new ArgumentException($"{Name}: the weighted mean overflowed to a non-finite value", nameof(updates));
            }
            result.CopyTo(global);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
