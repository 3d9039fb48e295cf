using Skein.Coordinator.Blobs;
using Skein.Core;

namespace Skein.Coordinator.Tests;

/// <summary>A scratch store root, deleted with everything in it when the test ends.</summary>
internal sealed class TempRoot : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "skein-blobs-" + Guid.NewGuid().ToString("N"));

    public string Uploads => Path.Combine(Root, "uploads");

    public BlobStore NewStore(long maxBlobBytes = 512L << 20, TimeSpan? staleUploadAge = null) =>
        new(new BlobStoreOptions(Root, maxBlobBytes, staleUploadAge));

    public string BlobFile(string sha256) => Path.Combine(Root, "blobs", sha256[..2], sha256[2..]);

    public string[] UploadFiles() => Directory.Exists(Uploads) ? Directory.GetFiles(Uploads) : [];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static string Sha(byte[] data) => Hashing.Sha256Hex(data);

    public static async Task<byte[]> Collect(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, int? maxChunk = null)
    {
        var all = new List<byte>();
        await foreach (var chunk in chunks)
        {
            if (maxChunk is { } max)
            {
                Assert.InRange(chunk.Length, 1, max);
            }
            all.AddRange(chunk.ToArray()); // chunks are pooled views: copy before asking for the next
        }
        return [.. all];
    }

    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] data, int chunkSize)
    {
        for (var offset = 0; offset < data.Length; offset += chunkSize)
        {
            await Task.Yield();
            yield return data.AsMemory(offset, Math.Min(chunkSize, data.Length - offset));
        }
    }
}
