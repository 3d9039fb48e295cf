using System.Security.Cryptography;

namespace Skein.Coordinator.Blobs;

/// <summary>
/// This process's view of one upload: its manifest (immutable, so safe to cache), the lock that serialises writers,
/// and a running SHA-256 of the bytes this process appended.
/// </summary>
/// <remarks>
/// The disk, not this object, is the truth: the received count is always the part file's length, and the running
/// hash is used only while it covers exactly that many bytes. After a restart, or when another process appended,
/// it does not, and completion re-hashes the file instead.
/// </remarks>
internal sealed class UploadSession(string id, string uploadsDirectory, UploadManifest manifest) : IDisposable
{
    private IncrementalHash? _hash;
    private long _hashedBytes;

    public string Id { get; } = id;

    public UploadManifest Manifest { get; } = manifest;

    public string PartPath { get; } = Path.Combine(uploadsDirectory, id + ".part");

    public string ManifestPath { get; } = Path.Combine(uploadsDirectory, id + ".json");

    /// <summary>Held by whoever writes, completes or deletes the upload. Never disposed: a caller may still be waiting on it when the upload ends, and then finds the part file gone.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Feeds bytes just written at <paramref name="position"/> into the running hash, or drops it if it has a gap.</summary>
    public void Track(long position, ReadOnlySpan<byte> bytes)
    {
        if (_hash is not null && _hashedBytes != position)
        {
            DropHash();
        }
        if (_hash is null && position == 0)
        {
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        if (_hash is not null)
        {
            _hash.AppendData(bytes);
            _hashedBytes += bytes.Length;
        }
    }

    /// <summary>The running hash as lowercase hex if it covers exactly the first <paramref name="length"/> bytes; otherwise null.</summary>
    public string? HashIfCovering(long length)
    {
        if (_hash is null || _hashedBytes != length)
        {
            return null;
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        _hash.GetCurrentHash(digest);
        return Convert.ToHexStringLower(digest);
    }

    public void Dispose() => DropHash();

    private void DropHash()
    {
        _hash?.Dispose();
        _hash = null;
        _hashedBytes = 0;
    }
}
