using System.Diagnostics;
using System.Security.Cryptography;
using Skein.Core;

namespace Skein.Coordinator.Blobs;

/// <summary>In-process throughput of the upload path (streamed chunks, hash check, rename into place), for <c>bench round</c>.</summary>
public static class BlobStoreBenchmark
{
    /// <summary>
    /// Uploads <paramref name="bytes"/> random bytes in chunks of <paramref name="chunkSize"/> through one streamed
    /// append and completes the upload; returns gigabits per second over begin, append and complete. The blob stays
    /// in <paramref name="store"/>, so point it at a scratch folder.
    /// </summary>
    public static async Task<double> UploadGbpsAsync(BlobStore store, int bytes, int chunkSize, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);

        // Fresh random content on every call: the store is content-addressed, and a repeat would find the blob stored.
        var data = GC.AllocateUninitializedArray<byte>(bytes);
        RandomNumberGenerator.Fill(data);
        // Hashing before the upload is the client's cost, not the store's: keep it out of the measurement.
        var sha256 = Hashing.Sha256Hex(data);

        var start = Stopwatch.GetTimestamp();
        var handle = await store.BeginUploadAsync(sha256, bytes, "benchmark", ct);
        await store.AppendAsync(handle.UploadId, 0, Chunks(data, chunkSize).ToAsyncEnumerable(), ct);
        await store.CompleteAsync(handle.UploadId, ct);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return bytes * 8.0 / 1e9 / seconds;
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] data, int chunkSize)
    {
        for (var offset = 0; offset < data.Length; offset += chunkSize)
        {
            yield return data.AsMemory(offset, Math.Min(chunkSize, data.Length - offset));
        }
    }
}
