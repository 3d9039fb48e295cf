using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Skein.Core;

/// <summary>Element types of the safetensors format, by their names in the header.</summary>
public enum TensorDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,
}

/// <summary>One named tensor of a safetensors file: little-endian, row-major bytes.</summary>
public sealed record TensorEntry(string Name, TensorDType DType, IReadOnlyList<long> Shape, ReadOnlyMemory<byte> Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public static TensorEntry FromFloats(string name, IReadOnlyList<long> shape, ReadOnlySpan<float> values) =>
        new(name, TensorDType.F32, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The data as float32 values; throws if the tensor is not F32.</summary>
    public ReadOnlySpan<float> AsFloats()
    {
        if (DType != TensorDType.F32)
        {
            throw new SafeTensorsFormatException($"tensor '{Name}': dtype is {DType}, expected F32");
        }
        return MemoryMarshal.Cast<byte, float>(Data.Span);
    }
}

/// <summary>A parsed safetensors file: tensors in data order plus the free-form string metadata.</summary>
public sealed record SafeTensorsDocument(IReadOnlyList<TensorEntry> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    public TensorEntry this[string name] =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"no tensor named '{name}'");
}

/// <summary>Raised when bytes are not a valid safetensors file; the message names the rule broken.</summary>
/// <summary>One tensor as a header describes it: where its bytes lie in the data section.</summary>
public sealed record SafeTensorsHeaderEntry(string Name, TensorDType DType, IReadOnlyList<long> Shape, long Begin, long End);

/// <summary>A checked safetensors header: its tensors in data order, and its metadata.</summary>
public sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsHeaderEntry> Tensors, IReadOnlyDictionary<string, string> Metadata);

public sealed class SafeTensorsFormatException(string message) : FormatException(message);

/// <summary>
/// Reader and writer for the safetensors format (8-byte little-endian header length, JSON header, raw data).
/// The writer is deterministic: tensors and header keys in the order given, the header padded with spaces to
/// an 8-byte boundary, so equal parameters always give equal bytes and therefore equal hashes.
/// </summary>
public static class SafeTensors
{
    /// <summary>Header size limit of the reference implementation; a larger claim is refused before allocation.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    public static byte[] Serialize(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    public static void Write(Stream destination, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(tensors);
        EnsureLittleEndian();

        var header = new ArrayBufferWriterStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var t in tensors)
            {
                if (string.IsNullOrEmpty(t.Name) || t.Name == MetadataKey || !names.Add(t.Name))
                {
                    throw new ArgumentException($"tensor name '{t.Name}' is empty, reserved or repeated", nameof(tensors));
                }
                var expected = t.ElementCount * ElementSize(t.DType);
                if (t.Data.Length != expected)
                {
                    throw new ArgumentException(
                        $"tensor '{t.Name}': {t.Data.Length} bytes of data, but shape [{string.Join(", ", t.Shape)}] of {t.DType} needs {expected}",
                        nameof(tensors));
                }
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }

        var headerBytes = header.WrittenSpan;
        var padded = (headerBytes.Length + 7) / 8 * 8;
        Span<byte> lengthPrefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthPrefix, (ulong)padded);
        destination.Write(lengthPrefix);
        destination.Write(headerBytes);
        for (var i = headerBytes.Length; i < padded; i++)
        {
            destination.WriteByte((byte)' ');
        }
        foreach (var t in tensors)
        {
            destination.Write(t.Data.Span);
        }
    }

    /// <summary>Parses a whole safetensors file held in memory; tensors share no memory with <paramref name="bytes"/>.</summary>
    public static SafeTensorsDocument Parse(ReadOnlySpan<byte> bytes)
    {
        var headerLength = ReadHeaderLength(bytes, bytes.Length);
        if ((ulong)bytes.Length - 8 < headerLength)
        {
            throw new SafeTensorsFormatException($"truncated: header claims {headerLength} bytes but only {bytes.Length - 8} follow");
        }
        var data = bytes[(8 + (int)headerLength)..];
        var header = ParseHeader(bytes.Slice(8, (int)headerLength), data.Length);
        var tensors = new List<TensorEntry>(header.Tensors.Count);
        foreach (var t in header.Tensors)
        {
            tensors.Add(new TensorEntry(t.Name, t.DType, t.Shape, data[(int)t.Begin..(int)t.End].ToArray()));
        }
        return new SafeTensorsDocument(tensors, header.Metadata);
    }

    /// <summary>
    /// The header length a file of <paramref name="fileLength"/> bytes declares in its first 8 bytes, checked against
    /// the limit; <paramref name="prefix"/> must hold at least those 8 bytes unless the file is shorter.
    /// </summary>
    public static ulong ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength)
    {
        EnsureLittleEndian();
        if (fileLength < 8)
        {
            throw new SafeTensorsFormatException($"truncated: {fileLength} bytes, the 8-byte header length is missing");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw new SafeTensorsFormatException($"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        }
        if ((ulong)fileLength - 8 < headerLength)
        {
            throw new SafeTensorsFormatException($"truncated: header claims {headerLength} bytes but only {fileLength - 8} follow");
        }
        return headerLength;
    }

    /// <summary>
    /// Parses and checks a header (the JSON after the length) for a data section of <paramref name="dataLength"/>
    /// bytes: every rule <see cref="Parse"/> applies, without needing the data itself, so that a stream can be
    /// checked as it arrives. Tensors come back in the order of their data.
    /// </summary>
    public static SafeTensorsHeader ParseHeader(ReadOnlySpan<byte> header, long dataLength)
    {
        EnsureLittleEndian();
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            throw new SafeTensorsFormatException("header does not start with '{'");
        }
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw new SafeTensorsFormatException("header is not valid UTF-8");
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(header.TrimEnd((byte)' ').ToArray());
        }
        catch (JsonException ex)
        {
            throw new SafeTensorsFormatException($"header is not valid JSON: {ex.Message}");
        }

        using (json)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var parsed = new List<(string Name, TensorDType DType, long[] Shape, long Begin, long End)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                // A name given twice would leave which tensor it means to the reader; refuse it rather than guess.
                if (!names.Add(property.Name))
                {
                    throw new SafeTensorsFormatException($"header: '{property.Name}' appears twice (each tensor name and __metadata__ at most once)");
                }
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new SafeTensorsFormatException("__metadata__ must be an object of strings");
                    }
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (metadata.ContainsKey(m.Name))
                        {
                            throw new SafeTensorsFormatException($"__metadata__.{m.Name} appears twice");
                        }
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String
                            ? m.Value.GetString()!
                            : throw new SafeTensorsFormatException($"__metadata__.{m.Name} must be a string");
                    }
                    continue;
                }
                parsed.Add(ParseEntry(property));
            }

            parsed.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expectedBegin = 0;
            var tensors = new List<SafeTensorsHeaderEntry>(parsed.Count);
            foreach (var p in parsed)
            {
                if (p.Begin != expectedBegin)
                {
                    throw new SafeTensorsFormatException(
                        $"tensor '{p.Name}': data_offsets begin at {p.Begin}, expected {expectedBegin} (holes or overlaps are not allowed)");
                }
                var elementBytes = ByteCount(p.Name, p.Shape, p.DType);
                if (p.End - p.Begin != elementBytes)
                {
                    throw new SafeTensorsFormatException(
                        $"tensor '{p.Name}': data_offsets span {p.End - p.Begin} bytes but shape [{string.Join(", ", p.Shape)}] of {p.DType} needs {elementBytes}");
                }
                if (p.End > dataLength)
                {
                    throw new SafeTensorsFormatException(
                        $"truncated: tensor '{p.Name}' ends at byte {p.End} of the data, but the data has {dataLength} bytes");
                }
                tensors.Add(new SafeTensorsHeaderEntry(p.Name, p.DType, p.Shape, p.Begin, p.End));
                expectedBegin = p.End;
            }
            if (expectedBegin != dataLength)
            {
                throw new SafeTensorsFormatException($"{dataLength - expectedBegin} bytes after the last tensor are not described by the header");
            }
            return new SafeTensorsHeader(tensors, metadata);
        }
    }

    public static SafeTensorsDocument ReadFile(string path)
    {
        try
        {
            return Parse(File.ReadAllBytes(path));
        }
        catch (SafeTensorsFormatException ex)
        {
            throw new SafeTensorsFormatException($"{path}: {ex.Message}");
        }
    }

    public static int ElementSize(TensorDType dtype) => dtype switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        TensorDType.I8 or TensorDType.U8 or TensorDType.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    private static (string, TensorDType, long[], long, long) ParseEntry(JsonProperty property)
    {
        var name = property.Name;
        if (name.Length == 0)
        {
            throw new SafeTensorsFormatException("header: a tensor name is empty");
        }
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException($"tensor '{name}': entry must be an object");
        }
        if (!v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !Enum.TryParse<TensorDType>(dtypeElement.GetString(), ignoreCase: false, out var dtype)
            || !Enum.IsDefined(dtype))
        {
            throw new SafeTensorsFormatException($"tensor '{name}': dtype is missing or not one of {string.Join(", ", Enum.GetNames<TensorDType>())}");
        }
        if (!v.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafeTensorsFormatException($"tensor '{name}': shape must be an array of non-negative integers");
        }
        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
            {
                throw new SafeTensorsFormatException($"tensor '{name}': shape must be an array of non-negative integers");
            }
            shape[i++] = dim;
        }
        if (!v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
        {
            throw new SafeTensorsFormatException($"tensor '{name}': data_offsets must be [begin, end] with 0 <= begin <= end");
        }
        return (name, dtype, shape, begin, end);
    }

    /// <summary>The bytes a tensor of this shape and dtype holds; refused when that does not fit 64 bits (a shape no file can back).</summary>
    private static long ByteCount(string name, long[] shape, TensorDType dtype)
    {
        long bytes = ElementSize(dtype);
        foreach (var d in shape)
        {
            if (d != 0 && bytes > long.MaxValue / d)
            {
                if (shape.Contains(0))
                {
                    return 0;
                }
                throw new SafeTensorsFormatException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} has more bytes than fit in 64 bits");
            }
            bytes *= d;
        }
        return bytes;
    }

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported");
        }
    }

    /// <summary>A growable in-memory stream that exposes what was written without another copy.</summary>
    private sealed class ArrayBufferWriterStream : MemoryStream
    {
        public ReadOnlySpan<byte> WrittenSpan => GetBuffer().AsSpan(0, (int)Length);
    }
}
