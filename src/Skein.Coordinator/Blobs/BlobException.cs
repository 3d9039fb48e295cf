namespace Skein.Coordinator.Blobs;

/// <summary>A refused blob-store request; the message names the numbers or names involved.</summary>
public sealed class BlobException(BlobError error, string message) : Exception(message)
{
    public BlobError Error { get; } = error;
}
