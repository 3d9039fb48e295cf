namespace Skein.Coordinator.Blobs;

/// <summary>
/// An upload in progress: the client sends the bytes from <see cref="Offset"/> on. When the blob is already stored,
/// <see cref="UploadId"/> is empty and <see cref="Offset"/> equals <see cref="Size"/>: there is nothing to send or complete.
/// </summary>
public sealed record UploadHandle(string UploadId, string Sha256, long Size, long Offset)
{
    /// <summary>True when the store already holds the blob, so no upload was opened.</summary>
    public bool AlreadyStored => UploadId.Length == 0;

    public long Remaining => Size - Offset;
}
