using System.Diagnostics.CodeAnalysis;
using Skein.Market.Runtime;

namespace Skein.Market.Provider;

/// <summary>
/// Lets the process runtime run the Skein image without a container engine: any tag of an image whose repository
/// is <c>skein</c> (e.g. <c>ghcr.io/skein-ai/skein:0.1</c>) runs this machine's own `skein run-from-env`, the
/// image's entry point; other images fall through to <paramref name="others"/>.
/// </summary>
public sealed class SkeinImageResolver(ResolvedImage skein, IImageResolver? others = null) : IImageResolver
{
    public IReadOnlyList<string> KnownImages => ["*/skein:<any tag>", .. others?.KnownImages ?? []];

    public bool TryResolve(string image, [NotNullWhen(true)] out ResolvedImage? resolved)
    {
        ArgumentNullException.ThrowIfNull(image);
        var name = image.Split('@')[0];
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        var repository = colon > slash ? name[..colon] : name;
        var last = repository[(repository.LastIndexOf('/') + 1)..];
        if (string.Equals(last, "skein", StringComparison.Ordinal))
        {
            resolved = skein;
            return true;
        }
        resolved = null;
        return others?.TryResolve(image, out resolved) ?? false;
    }
}
