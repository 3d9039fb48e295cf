using System.Globalization;
using System.Numerics.Tensors;
using Skein.Core;

namespace Skein.Coordinator.Blobs;

/// <summary>Admission check for an uploaded update: a safetensors file of exactly the model's tensors, F32, every value finite.</summary>
public static class SafeTensorsValidator
{
    /// <summary>Throws <see cref="UpdateRejectedException"/> naming the first problem: the parse error, the tensor whose name, dtype or shape is wrong, or the tensor and index of the first NaN or infinity.</summary>
    public static void ValidateUpdate(ReadOnlySpan<byte> bytes, ParameterLayout layout) => _ = ReadUpdate(bytes, layout);

    /// <summary>Validates as <see cref="ValidateUpdate"/> and returns the flat parameter vector, so that an accepted update is parsed once.</summary>
    public static float[] ReadUpdate(ReadOnlySpan<byte> bytes, ParameterLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        SafeTensorsDocument document;
        try
        {
            document = SafeTensors.Parse(bytes);
        }
        catch (SafeTensorsFormatException ex)
        {
            throw new UpdateRejectedException($"not a safetensors file: {ex.Message}");
        }

        float[] flat;
        try
        {
            flat = layout.FromSafeTensors(document);
        }
        catch (SafeTensorsFormatException ex)
        {
            // Core's messages already name the tensor: missing, extra, wrong dtype or wrong shape.
            throw new UpdateRejectedException($"does not match the model: {ex.Message}");
        }

        // One vectorised pass over the whole update; the per-tensor search below runs only for a rejected one.
        if (!TensorPrimitives.IsFiniteAll(flat))
        {
            ThrowNonFinite(flat, layout);
        }
        return flat;
    }

    private static void ThrowNonFinite(float[] flat, ParameterLayout layout)
    {
        for (var i = 0; i < layout.Parameters.Count; i++)
        {
            var p = layout.Parameters[i];
            var values = flat.AsSpan(layout.OffsetOf(i), (int)p.ElementCount);
            if (TensorPrimitives.IsFiniteAll(values))
            {
                continue;
            }
            var j = 0;
            while (float.IsFinite(values[j]))
            {
                j++;
            }
            throw NonFinite(p, j, values[j]);
        }
    }

    /// <summary>The refusal of an update whose tensor <paramref name="p"/> holds <paramref name="value"/> at flat element <paramref name="element"/>.</summary>
    internal static UpdateRejectedException NonFinite(ParameterSpec p, long element, float value) => new(string.Create(
        CultureInfo.InvariantCulture,
        $"tensor '{p.Name}': non-finite value {value} at element {element} (index [{string.Join(", ", Unravel(element, p.Shape))}])"));

    /// <summary>Row-major flat index to one index per dimension.</summary>
    private static long[] Unravel(long flatIndex, IReadOnlyList<long> shape)
    {
        var index = new long[shape.Count];
        for (var d = shape.Count - 1; d >= 0; d--)
        {
            index[d] = flatIndex % shape[d];
            flatIndex /= shape[d];
        }
        return index;
    }
}
