using System.Globalization;
using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Checks a round's inputs before a strategy touches the global vector or its own state, so that a refused round
/// leaves both exactly as they were.
/// </summary>
internal static class RoundInput
{
    /// <summary>
    /// Lengths and sample counts only: for strategies that detect non-finite values in their own single pass
    /// over the data (see <see cref="FedAvg"/>) and call <see cref="Check"/> to name the culprit.
    /// </summary>
    public static void CheckShape(string strategy, ReadOnlySpan<float> global, IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
        {
            throw new ArgumentException($"{strategy}: needs at least one update, got none", nameof(updates));
        }
        for (var i = 0; i < updates.Count; i++)
        {
            var u = updates[i];
            if (u.Delta.Length != global.Length)
            {
                throw new ArgumentException(
                    $"{strategy}: update {i} has {u.Delta.Length} values, expected {global.Length} (the length of global)",
                    nameof(updates));
            }
            if (u.SampleCount <= 0)
            {
                throw new ArgumentException($"{strategy}: update {i}: sample count must be > 0, got {u.SampleCount}", nameof(updates));
            }
        }
    }

    public static void Check(string strategy, ReadOnlySpan<float> global, IReadOnlyList<ClientUpdate> updates)
    {
        CheckShape(strategy, global, updates);
        if (!TensorPrimitives.IsFiniteAll(global))
        {
            var j = FirstNonFinite(global);
            throw new ArgumentException(
                Invariant($"{strategy}: global value {j} is {global[j]}; parameters must be finite"), nameof(global));
        }
        for (var i = 0; i < updates.Count; i++)
        {
            var delta = updates[i].Delta.Span;
            if (!TensorPrimitives.IsFiniteAll(delta))
            {
                var j = FirstNonFinite(delta);
                throw new ArgumentException(
                    Invariant($"{strategy}: update {i}: value {j} is {delta[j]}; deltas must be finite"), nameof(updates));
            }
        }
    }

    /// <summary>Refuses a round whose vector length differs from the one the server state was built for.</summary>
    public static void CheckStateLength(string strategy, float[]? state, ReadOnlySpan<float> global)
    {
        if (state is not null && state.Length != global.Length)
        {
            throw new ArgumentException(
                $"{strategy}: global has {global.Length} values but the server state was built for {state.Length}",
                nameof(global));
        }
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }
}
