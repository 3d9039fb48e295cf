using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlFixtureTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Sdl", "Fixtures");

    public static TheoryData<string> ValidFiles() => Files("valid");

    public static TheoryData<string> InvalidFiles() => Files("invalid");

    private static TheoryData<string> Files(string folder) => [.. Names(folder)];

    private static IEnumerable<string> Names(string folder) =>
        Directory.GetFiles(Path.Combine(Fixtures, folder), "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Valid_fixture_parses_without_errors(string file)
    {
        var result = SdlDocument.Load(Path.Combine(Fixtures, "valid", file));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.NotNull(result.Document);
        Assert.NotEmpty(result.Document.ToGroups());
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Invalid_fixture_reports_the_error_its_first_line_expects(string file)
    {
        var path = Path.Combine(Fixtures, "invalid", file);
        var firstLine = File.ReadLines(path).First();
        Assert.StartsWith("# expect: ", firstLine, StringComparison.Ordinal);
        var expected = firstLine["# expect: ".Length..];
        var separator = expected.IndexOf(": ", StringComparison.Ordinal);
        var (expectedPath, expectedMessage) = (expected[..separator], expected[(separator + 2)..]);

        var result = SdlDocument.Load(path);

        Assert.False(result.Ok);
        Assert.Null(result.Document);
        Assert.True(result.Errors.Any(e => e.Path == expectedPath && e.Message == expectedMessage),
            $"expected '{expectedPath}: {expectedMessage}', got:\n{string.Join("\n", result.Errors)}");
        Assert.All(result.Errors, e => Assert.Equal(path, e.File));
    }

    [Fact]
    public void The_fixture_set_covers_at_least_14_valid_and_24_invalid_files()
    {
        Assert.True(Names("valid").Count() >= 14);
        Assert.True(Names("invalid").Count() >= 24);
    }

    [Fact]
    public void Each_invalid_fixture_breaks_exactly_one_rule()
    {
        var multiple = Names("invalid")
            .Select(file => (file, SdlDocument.Load(Path.Combine(Fixtures, "invalid", file)).Errors))
            .Where(x => x.Errors.Count != 1)
            .Select(x => $"{x.file}: {string.Join(" | ", x.Errors.Select(e => $"{e.Path}: {e.Message}"))}")
            .ToList();
        Assert.True(multiple.Count == 0, string.Join("\n", multiple));
    }
}
