using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

/// <summary>Fixture files and small SDLs shared by the SDL tests.</summary>
internal static class SdlTestData
{
    public static string Fixtures { get; } = Path.Combine(AppContext.BaseDirectory, "Sdl", "Fixtures");

    public static string Text(string relative) => File.ReadAllText(Path.Combine(Fixtures, relative));

    public static SdlDocument Load(string relative)
    {
        var result = SdlDocument.Load(Path.Combine(Fixtures, relative));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Document!;
    }

    public static SdlDocument Parse(string yaml)
    {
        var result = SdlDocument.Parse(yaml);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Document!;
    }
}
