namespace Skein.Core;

/// <summary>The name and shape of one parameter tensor of a model.</summary>
public sealed record ParameterSpec(string Name, IReadOnlyList<long> Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public override string ToString() => $"{Name}[{string.Join(", ", Shape)}]";
}

/// <summary>
/// The fixed order of a model's parameters and their offsets in one flat float32 vector: the view on which
/// aggregation works and the order in which safetensors files are written.
/// </summary>
public sealed class ParameterLayout
{
    private readonly long[] _offsets;

    public ParameterLayout(IReadOnlyList<ParameterSpec> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        _offsets = new long[parameters.Count];
        long total = 0;
        for (var i = 0; i < parameters.Count; i++)
        {
            _offsets[i] = total;
            total += parameters[i].ElementCount;
        }
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"{total} parameters do not fit one flat vector", nameof(parameters));
        }
        TotalCount = (int)total;
    }

    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>Number of float32 values in the flat vector.</summary>
    public int TotalCount { get; }

    public int OffsetOf(int index) => (int)_offsets[index];

    /// <summary>Writes <paramref name="flat"/> as safetensors, one tensor per parameter in layout order.</summary>
    public byte[] ToSafeTensors(ReadOnlySpan<float> flat, IReadOnlyDictionary<string, string>? metadata = null)
    {
        CheckLength(flat.Length);
        var entries = new TensorEntry[Parameters.Count];
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            entries[i] = TensorEntry.FromFloats(p.Name, p.Shape, flat.Slice(OffsetOf(i), (int)p.ElementCount));
        }
        return SafeTensors.Serialize(entries, metadata);
    }

    /// <summary>
    /// Reads a flat vector from a safetensors document, requiring exactly this layout's names, shapes and F32;
    /// the error names the first tensor that differs.
    /// </summary>
    public float[] FromSafeTensors(SafeTensorsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var byName = Match(document.Tensors, t => t.Name, t => t.DType, t => t.Shape);
        var flat = new float[TotalCount];
        for (var i = 0; i < Parameters.Count; i++)
        {
            byName[Parameters[i].Name].AsFloats().CopyTo(flat.AsSpan(OffsetOf(i)));
        }
        return flat;
    }

    /// <summary>
    /// Checks a header before its data arrives under the rules of <see cref="FromSafeTensors"/> (the same messages),
    /// and returns for each tensor, in data order, the index of its parameter.
    /// </summary>
    public int[] Match(SafeTensorsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var byName = Match(header.Tensors, t => t.Name, t => t.DType, t => t.Shape);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Parameters.Count; i++)
        {
            index[Parameters[i].Name] = i;
        }
        return [.. header.Tensors.Select(t => index[t.Name])];
    }

    private Dictionary<string, T> Match<T>(IReadOnlyList<T> tensors, Func<T, string> name, Func<T, TensorDType> dtype, Func<T, IReadOnlyList<long>> shape)
    {
        var byName = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            byName[name(t)] = t;
        }
        foreach (var extra in byName.Keys.Where(n => !Parameters.Any(p => p.Name == n)).Order(StringComparer.Ordinal))
        {
            throw new SafeTensorsFormatException($"tensor '{extra}' is not a parameter of this model (expected: {string.Join(", ", Parameters)})");
        }
        foreach (var p in Parameters)
        {
            if (!byName.TryGetValue(p.Name, out var t))
            {
                throw new SafeTensorsFormatException($"tensor '{p.Name}' is missing");
            }
            if (dtype(t) != TensorDType.F32)
            {
                throw new SafeTensorsFormatException($"tensor '{p.Name}': dtype {dtype(t)}, expected F32");
            }
            if (!shape(t).SequenceEqual(p.Shape))
            {
                throw new SafeTensorsFormatException(
                    $"tensor '{p.Name}': shape [{string.Join(", ", shape(t))}], expected [{string.Join(", ", p.Shape)}]");
            }
        }
        return byName;
    }

    private void CheckLength(int length)
    {
        if (length != TotalCount)
        {
            throw new ArgumentException($"flat vector has {length} values, layout needs {TotalCount}");
        }
    }
}
