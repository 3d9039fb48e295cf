using System.Buffers.Binary;
using System.IO.Compression;

namespace Skein.Learning.Data;

/// <summary>Raised when a file is not a well-formed IDX file; the message names the file and the rule broken.</summary>
public sealed class IdxFormatException(string message) : FormatException(message);

/// <summary>An unsigned-byte IDX array (the MNIST format): its dimensions and its row-major data.</summary>
public sealed record IdxArray(IReadOnlyList<int> Dimensions, byte[] Data)
{
    public int Count => Dimensions[0];

    /// <summary>Elements per item: the product of every dimension after the first.</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Reads IDX files (LeCun's format: two zero bytes, a type code, a dimension count, big-endian dimension sizes,
/// then the data), raw or gzip-compressed; compression is detected from the content, not the file name.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByteType = 0x08;

    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return Parse(ReadPossiblyCompressed(path));
        }
        catch (IdxFormatException ex)
        {
            throw new IdxFormatException($"{path}: {ex.Message}");
        }
    }

    /// <summary>The file's bytes, decompressed if it starts with the gzip magic.</summary>
    public static byte[] ReadPossiblyCompressed(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var output = new MemoryStream();
                gz.CopyTo(output);
                if (output.Length == 0)
                {
                    throw new InvalidDataException("no data could be decompressed");
                }
                return output.ToArray();
            }
            catch (InvalidDataException ex)
            {
                throw new IdxFormatException($"{path}: gzip data is corrupt or truncated ({ex.Message})");
            }
        }
        return bytes;
    }

    public static IdxArray Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4)
        {
            throw new IdxFormatException($"truncated: {bytes.Length} bytes, the 4-byte magic number is missing");
        }
        var magic = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (bytes[0] != 0 || bytes[1] != 0 || bytes[3] == 0)
        {
            throw new IdxFormatException($"magic number 0x{magic:X8} is not an IDX magic (expected 0x000008nn: two zero bytes, a type code, a dimension count)");
        }
        if (bytes[2] != UnsignedByteType)
        {
            throw new IdxFormatException($"magic number 0x{magic:X8}: element type 0x{bytes[2]:X2} is not supported (only unsigned byte, 0x08)");
        }
        int rank = bytes[3];
        var headerLength = 4 + (4 * rank);
        if (bytes.Length < headerLength)
        {
            throw new IdxFormatException($"truncated: {rank} dimensions need a {headerLength}-byte header, found {bytes.Length} bytes");
        }
        var dims = new int[rank];
        long expected = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 + (4 * i))..]);
            if (d > int.MaxValue)
            {
                throw new IdxFormatException($"dimension {i} is {d}, larger than supported");
            }
            dims[i] = (int)d;
            expected *= d;
        }
        var actual = bytes.Length - headerLength;
        if (actual < expected)
        {
            throw new IdxFormatException(
                $"truncated: dimensions {string.Join("x", dims)} need {expected} data bytes, found {actual}");
        }
        if (actual > expected)
        {
            throw new IdxFormatException(
                $"{actual - expected} bytes beyond the {expected} that dimensions {string.Join("x", dims)} describe");
        }
        return new IdxArray(dims, bytes[headerLength..].ToArray());
    }

    /// <summary>Encodes an unsigned-byte IDX file (used to write test fixtures and subsets).</summary>
    public static byte[] Encode(IReadOnlyList<int> dimensions, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        var header = 4 + (4 * dimensions.Count);
        var result = new byte[header + data.Length];
        result[2] = UnsignedByteType;
        result[3] = checked((byte)dimensions.Count);
        for (var i = 0; i < dimensions.Count; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(4 + (4 * i)), (uint)dimensions[i]);
        }
        data.CopyTo(result.AsSpan(header));
        return result;
    }
}
