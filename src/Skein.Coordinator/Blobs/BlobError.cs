namespace Skein.Coordinator.Blobs;

/// <summary>Why a <see cref="BlobStore"/> refused a request; a network layer maps each to its own status code.</summary>
public enum BlobError
{
    TooLarge,
    HashMismatch,
    Truncated,
    Overflow,
    WrongOffset,
    UnknownUpload,
    NotFound,
    InvalidHash,
    InvalidId,
    Corrupt,

    /// <summary>A declared size below zero.</summary>
    InvalidSize,
}
