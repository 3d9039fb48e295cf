using Skein.Core;

namespace Skein.Learning.Language;

/// <summary>How client adapters are combined into one.</summary>
public enum LoraAggregationMode
{
    /// <summary>
    /// Weighted averages of A and of B separately. The aggregate's delta avg(B) avg(A) is not the average of the
    /// clients' deltas avg(B A) when the clients' A differ: the gap is the cross terms.
    /// </summary>
    Plain,

    /// <summary>
    /// FFA-LoRA: every client's A is the same frozen seeded initialisation and only B is averaged, so the
    /// aggregate's delta avg(B) A equals avg(B A) exactly, the delta being linear in B.
    /// </summary>
    Exact,
}

/// <summary>Pure functions over flat adapter vectors (no libtorch): aggregation, effective deltas and merging.</summary>
public static class LoraAggregation
{
    /// <summary>
    /// Combines client adapters with the given weights (normalised to sum to 1). <see cref="LoraAggregationMode.Exact"/>
    /// requires bit-identical A in every client adapter; a caller validating untrusted updates should check that
    /// first, since a mismatch here is an argument error.
    /// </summary>
    public static float[] Aggregate(ParameterLayout adapterLayout, IReadOnlyList<float[]> adapters, IReadOnlyList<double> weights, LoraAggregationMode mode)
    {
        ArgumentNullException.ThrowIfNull(adapterLayout);
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(weights);
        if (adapters.Count == 0 || adapters.Count != weights.Count)
        {
            throw new ArgumentException($"{adapters.Count} adapters and {weights.Count} weights: need one weight per adapter, at least one");
        }
        var total = 0.0;
        for (var k = 0; k < adapters.Count; k++)
        {
            if (adapters[k].Length != adapterLayout.TotalCount)
            {
                throw new ArgumentException($"adapter {k} has {adapters[k].Length} values, the layout needs {adapterLayout.TotalCount}");
            }
            if (!(weights[k] >= 0) || double.IsInfinity(weights[k]))
            {
                throw new ArgumentException($"weight {k} must be a finite number >= 0, got {weights[k]}");
            }
            total += weights[k];
        }
        if (!(total > 0))
        {
            throw new ArgumentException("the weights sum to zero");
        }

        var result = new float[adapterLayout.TotalCount];
        for (var i = 0; i < adapterLayout.Parameters.Count; i++)
        {
            var offset = adapterLayout.OffsetOf(i);
            var count = (int)adapterLayout.Parameters[i].ElementCount;
            var isA = adapterLayout.Parameters[i].Name.EndsWith(".lora_A", StringComparison.Ordinal);
            if (mode == LoraAggregationMode.Exact && isA)
            {
                var a = adapters[0].AsSpan(offset, count);
                for (var k = 1; k < adapters.Count; k++)
                {
                    if (!a.SequenceEqual(adapters[k].AsSpan(offset, count)))
                    {
                        throw new ArgumentException($"exact (FFA-LoRA) aggregation needs the same frozen A in every adapter; adapter {k} differs in {adapterLayout.Parameters[i].Name}");
                    }
                }
                a.CopyTo(result.AsSpan(offset, count));
                continue;
            }
            WeightedMean(adapters, weights, total, offset, count, result.AsSpan(offset, count));
        }
        return result;
    }

    /// <summary>
    /// The change an adapter makes to the base model, as a vector in the base layout: (alpha / r) B A at each
    /// targeted weight, zero elsewhere.
    /// </summary>
    public static float[] EffectiveDelta(TransformerConfig model, LoraConfig lora, ReadOnlySpan<float> adapter)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(lora);
        var baseLayout = model.Layout();
        var delta = new float[baseLayout.TotalCount];
        AddDelta(baseLayout, model, lora, adapter, delta);
        return delta;
    }

    /// <summary>The base model with the adapter merged in: W + (alpha / r) B A at each targeted weight.</summary>
    public static float[] Merge(TransformerConfig model, LoraConfig lora, ReadOnlySpan<float> baseParameters, ReadOnlySpan<float> adapter)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(lora);
        var baseLayout = model.Layout();
        if (baseParameters.Length != baseLayout.TotalCount)
        {
            throw new ArgumentException($"the base has {baseLayout.TotalCount} parameters, got {baseParameters.Length}");
        }
        var merged = baseParameters.ToArray();
        AddDelta(baseLayout, model, lora, adapter, merged);
        return merged;
    }

    private static void AddDelta(ParameterLayout baseLayout, TransformerConfig model, LoraConfig lora, ReadOnlySpan<float> adapter, float[] target)
    {
        var adapterLayout = lora.Layout(model);
        if (adapter.Length != adapterLayout.TotalCount)
        {
            throw new ArgumentException($"the adapter layout has {adapterLayout.TotalCount} values, got {adapter.Length}");
        }
        var baseIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < baseLayout.Parameters.Count; i++)
        {
            baseIndex[baseLayout.Parameters[i].Name] = i;
        }
        var rank = lora.Rank;
        var p = 0;
        foreach (var (name, outFeatures, inFeatures) in lora.Targeted(model))
        {
            var a = adapter.Slice(adapterLayout.OffsetOf(p), (int)(rank * inFeatures));
            var b = adapter.Slice(adapterLayout.OffsetOf(p + 1), (int)(outFeatures * rank));
            p += 2;
            var w = target.AsSpan(baseLayout.OffsetOf(baseIndex[name + ".weight"]), (int)(outFeatures * inFeatures));
            // Row o of B A is sum_r B[o, r] A[r, :]: rows of A scaled and added, accumulated in double.
            var row = new double[inFeatures];
            for (var o = 0; o < outFeatures; o++)
            {
                Array.Clear(row);
                for (var r = 0; r < rank; r++)
                {
                    double bor = b[(int)((o * rank) + r)];
                    var aRow = a.Slice((int)(r * inFeatures), (int)inFeatures);
                    for (var j = 0; j < aRow.Length; j++)
                    {
                        row[j] += bor * aRow[j];
                    }
                }
                var wRow = w.Slice((int)(o * inFeatures), (int)inFeatures);
                for (var j = 0; j < wRow.Length; j++)
                {
                    wRow[j] = (float)(wRow[j] + (lora.Scale * row[j]));
                }
            }
        }
    }

    private static void WeightedMean(IReadOnlyList<float[]> adapters, IReadOnlyList<double> weights, double total, int offset, int count, Span<float> destination)
    {
        for (var j = 0; j < count; j++)
        {
            var sum = 0.0;
            for (var k = 0; k < adapters.Count; k++)
            {
                sum += weights[k] * adapters[k][offset + j];
            }
            destination[j] = (float)(sum / total);
        }
    }
}
