namespace Skein.Coordinator.Blobs;

/// <summary>Where a <see cref="BlobStore"/> keeps its files, the largest blob it accepts and when it gives up on an upload.</summary>
public sealed record BlobStoreOptions(string Root, long MaxBlobBytes = 512L << 20, TimeSpan? StaleUploadAge = null)
{
    public static TimeSpan DefaultStaleUploadAge { get; } = TimeSpan.FromHours(24);

    /// <summary>How long an upload may go without a byte before <see cref="BlobStore.CollectStaleUploads"/> deletes it.</summary>
    public TimeSpan EffectiveStaleUploadAge => StaleUploadAge ?? DefaultStaleUploadAge;
}
