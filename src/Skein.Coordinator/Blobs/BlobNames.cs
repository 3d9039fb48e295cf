using System.Buffers;
using System.Security.Cryptography;

namespace Skein.Coordinator.Blobs;

/// <summary>
/// The only gate between caller-supplied strings and file paths: a hash or upload id becomes part of a path only
/// after it has been checked to be lowercase hex of the exact length, so no '/', '..' or drive letter gets through.
/// </summary>
internal static class BlobNames
{
    public const int HashLength = 64;
    public const int UploadIdLength = 32;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static bool IsLowerHex(string? text, int length) =>
        text is not null && text.Length == length && !text.AsSpan().ContainsAnyExcept(LowerHex);

    public static bool IsHash(string? text) => IsLowerHex(text, HashLength);

    public static bool IsUploadId(string? text) => IsLowerHex(text, UploadIdLength);

    public static void CheckHash(string? sha256)
    {
        if (!IsHash(sha256))
        {
            throw new BlobException(BlobError.InvalidHash, $"'{Show(sha256)}' is not a SHA-256 digest (64 lowercase hex digits)");
        }
    }

    public static void CheckUploadId(string? uploadId)
    {
        if (!IsUploadId(uploadId))
        {
            throw new BlobException(BlobError.InvalidId, $"'{Show(uploadId)}' is not an upload id (32 lowercase hex digits)");
        }
    }

    /// <summary>128 random bits: unguessable, so an upload id also works as the right to write to that upload.</summary>
    public static string NewUploadId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    // A hostile id may be huge; echo only the start of it into messages and logs.
    private static string Show(string? text) => text is null ? "(null)" : text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "...");
}
