using System.Text;
using Skein.Coordinator.Blobs;
using Skein.Core;

namespace Skein.Fuzz.Targets;

/// <summary>safetensors files: Core's reader, and the coordinator's admission check of an uploaded update.</summary>
internal static class SafeTensorsTargets
{
    private static readonly ParameterLayout Layout = new([new ParameterSpec("w", [3, 2]), new ParameterSpec("b", [2])]);

    private static readonly string[] Keys = ["__metadata__", "dtype", "shape", "data_offsets", "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "w", "b"];

    public static FuzzTarget Reader() => new()
    {
        Name = "safetensors",
        Description = "SafeTensors.Parse: 8-byte header length, JSON header, tensor data (any dtype, metadata)",
        Seeds = Seeds(),
        Dictionary = FuzzText.Of(FuzzText.Json, FuzzText.JsonKeys(Keys), Keys),
        Generate = SafeTensorsGenerator.Next,
        Run = input =>
        {
            SafeTensorsDocument document;
            try
            {
                document = SafeTensors.Parse(input);
            }
            catch (SafeTensorsFormatException)
            {
                return FuzzOutcome.Refused;
            }
            CheckAccepted(document);
            return FuzzOutcome.Accepted;
        },
    };

    public static FuzzTarget Update() => new()
    {
        Name = "safetensors-update",
        Description = "SafeTensorsValidator.ReadUpdate: what the coordinator runs on an uploaded update (model w[3,2], b[2])",
        Seeds = [Layout.ToSafeTensors([1, 2, 3, 4, 5, 6, 7, 8]), Layout.ToSafeTensors([0, -0f, 1e-45f, 3.4e38f, -1, 0.5f, 2, 3], new Dictionary<string, string> { ["round"] = "1" }),
            Layout.ToSafeTensors([float.NaN, 0, 0, 0, 0, 0, 0, float.PositiveInfinity])],
        Dictionary = FuzzText.Of(FuzzText.Json, FuzzText.JsonKeys(Keys), Keys),
        Generate = SafeTensorsGenerator.Next,
        Run = input =>
        {
            float[] flat;
            try
            {
                flat = SafeTensorsValidator.ReadUpdate(input, Layout);
            }
            catch (UpdateRejectedException)
            {
                return FuzzOutcome.Refused;
            }
            if (flat.Length != Layout.TotalCount || !flat.All(float.IsFinite))
            {
                throw new FuzzInvariantException($"accepted an update of {flat.Length} values (layout: {Layout.TotalCount}) or with a non-finite value");
            }
            return FuzzOutcome.Accepted;
        },
    };

    /// <summary>An accepted file must mean what it says: data lengths match shapes, and it writes back to a file that reads the same.</summary>
    private static void CheckAccepted(SafeTensorsDocument document)
    {
        foreach (var t in document.Tensors)
        {
            long elements = 1;
            foreach (var d in t.Shape)
            {
                elements = checked(elements * d);
            }
            if (checked(elements * SafeTensors.ElementSize(t.DType)) != t.Data.Length)
            {
                throw new FuzzInvariantException($"tensor '{t.Name}': shape [{string.Join(", ", t.Shape)}] of {t.DType} but {t.Data.Length} bytes");
            }
        }
        var again = SafeTensors.Parse(SafeTensors.Serialize(document.Tensors, document.Metadata));
        if (again.Tensors.Count != document.Tensors.Count
            || !again.Tensors.Zip(document.Tensors).All(p => p.First.Name == p.Second.Name && p.First.DType == p.Second.DType
                && p.First.Shape.SequenceEqual(p.Second.Shape) && p.First.Data.Span.SequenceEqual(p.Second.Data.Span)))
        {
            throw new FuzzInvariantException("the document written back reads differently");
        }
    }

    private static byte[][] Seeds()
    {
        var f = TensorEntry.FromFloats("w", [2, 2], [1, 2, 3, 4]);
        var scalar = TensorEntry.FromFloats("s", [], [7]);
        var empty = new TensorEntry("e", TensorDType.F32, [0, 5], Array.Empty<byte>());
        var bytes = new TensorEntry("u", TensorDType.U8, [3], new byte[] { 1, 2, 3 });
        var halves = new TensorEntry("h", TensorDType.BF16, [2], new byte[] { 0, 0x3f, 0, 0x40 });
        var longs = new TensorEntry("l", TensorDType.I64, [1], BitConverter.GetBytes(long.MaxValue));
        return
        [
            SafeTensors.Serialize([f]),
            SafeTensors.Serialize([f, scalar, empty], new Dictionary<string, string> { ["format"] = "pt", ["round"] = "3" }),
            SafeTensors.Serialize([bytes, halves, longs]),
            SafeTensors.Serialize([]),
            // Hand-written: offsets out of order in the header, which the format allows.
            WithHeader("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8]),
        ];
    }

    internal static byte[] WithHeader(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + h.Length + data.Length];
        BitConverter.TryWriteBytes(result.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(result, 8);
        data.CopyTo(result, 8 + h.Length);
        return result;
    }
}
