namespace Skein.Fuzz;

/// <summary>Seed inputs shipped inside this assembly (Seeds/ and the deploy templates), by name prefix.</summary>
internal static class SeedFiles
{
    public static byte[][] Load(string prefix)
    {
        var assembly = typeof(SeedFiles).Assembly;
        return
        [
            .. assembly.GetManifestResourceNames().Where(n => n.StartsWith("Skein.Fuzz.Seeds." + prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            }),
        ];
    }
}
