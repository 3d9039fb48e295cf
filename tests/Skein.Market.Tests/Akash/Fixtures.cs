namespace Skein.Market.Tests.Akash;

/// <summary>The JSON bodies in Akash/Fixtures, copied next to the test assembly.</summary>
internal static class Fixtures
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Akash", "Fixtures", name));
}
