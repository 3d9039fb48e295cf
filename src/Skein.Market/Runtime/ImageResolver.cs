using System.Diagnostics.CodeAnalysis;

namespace Skein.Market.Runtime;

/// <summary>What the process runtime runs for an image: an entrypoint, its default arguments, and whether it is a .NET program.</summary>
public sealed record ResolvedImage(IReadOnlyList<string> Entrypoint, IReadOnlyList<string> DefaultArgs, bool IsDotNet = false)
{
    /// <summary>A .NET program run as <c>dotnet &lt;dll&gt; args...</c>.</summary>
    public static ResolvedImage DotNet(string dll, params string[] defaultArgs) => new(["dotnet", dll], defaultArgs, IsDotNet: true);

    /// <summary>The command line for <paramref name="spec"/>: its command replaces the entrypoint and its args the defaults (Kubernetes rules).</summary>
    public IReadOnlyList<string> CommandLine(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var entry = spec.Command.Count > 0 ? spec.Command : Entrypoint;
        var args = spec.Args.Count > 0 ? spec.Args : spec.Command.Count > 0 ? [] : DefaultArgs;
        return [.. entry, .. args];
    }
}

/// <summary>Maps an image reference to something the process runtime can run without a container engine; the provider supplies it.</summary>
public interface IImageResolver
{
    /// <summary>The images this resolver can run, for error messages and capability reports.</summary>
    IReadOnlyList<string> KnownImages { get; }

    /// <summary>True, with what to run, when <paramref name="image"/> is runnable here.</summary>
    bool TryResolve(string image, [NotNullWhen(true)] out ResolvedImage? resolved);
}

/// <summary>A fixed table of images; "name" and "name:latest" are the same image.</summary>
public sealed class ImageCatalog : IImageResolver
{
    private readonly Dictionary<string, ResolvedImage> _images = new(StringComparer.Ordinal);

    public ImageCatalog()
    {
    }

    public ImageCatalog(IEnumerable<KeyValuePair<string, ResolvedImage>> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        foreach (var (image, resolved) in images)
        {
            Add(image, resolved);
        }
    }

    public IReadOnlyList<string> KnownImages => [.. _images.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Adds or replaces an image.</summary>
    public ImageCatalog Add(string image, ResolvedImage resolved)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        ArgumentNullException.ThrowIfNull(resolved);
        _images[Normalize(image)] = resolved;
        return this;
    }

    public bool TryResolve(string image, [NotNullWhen(true)] out ResolvedImage? resolved)
    {
        ArgumentNullException.ThrowIfNull(image);
        return _images.TryGetValue(Normalize(image), out resolved);
    }

    // A tag follows the last ':' after the last '/', so "host:5000/app" has none.
    private static string Normalize(string image) =>
        image.Contains('@', StringComparison.Ordinal) || image.LastIndexOf(':') > image.LastIndexOf('/') ? image : image + ":latest";
}
