using Skein.Coordinator.Blobs;

namespace Skein.Coordinator.Tests;

public sealed class BlobStoreBenchmarkTests
{
    [Fact]
    public async Task Upload_benchmark_reports_a_positive_rate_and_stores_the_blob()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var gbps = await BlobStoreBenchmark.UploadGbpsAsync(store, 1 << 20, 64 * 1024, ct);
        Assert.True(gbps > 0 && double.IsFinite(gbps), $"rate {gbps}");
        Assert.Single(Directory.GetFiles(Path.Combine(root.Root, "blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(root.UploadFiles());
    }
}
