using System.Text;
using System.Text.RegularExpressions;

namespace Skein.Cli.Tests;

/// <summary>
/// The README's "A network of your own" blocks, run literally (extracted from README.md, each line as written) in a
/// fresh folder where <c>./skein</c> is this build of the CLI: the documentation cannot drift from the product.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ReadmeWalkthroughTests : IDisposable
{
    private readonly ShellFolder _shell = new();

    private string Dir => _shell.Dir;

    [Fact]
    public async Task The_network_walkthrough_runs_as_written_and_every_round_verifies()
    {
        var (code, stdout, stderr) = await RunBlockAsync("network");
        Assert.True(code == 0, $"the walkthrough exited {code}:\n{stdout}\n{stderr}");
        Assert.Contains("verify ok: 3 round(s) of task 1 recomputed bit for bit", stdout, StringComparison.Ordinal);
        Assert.Contains("task 1: completed; test accuracy", stderr, StringComparison.Ordinal);
        // What init wrote, and what the nodes left: every key encrypted, each node's data its own.
        var net = Path.Combine(Dir, "mynet");
        Assert.Equal(5, Directory.GetFiles(Path.Combine(net, "keys"), "*.json").Length);
        Assert.All(Directory.GetFiles(Path.Combine(net, "keys")), f => Assert.Contains("\"crypto\"", File.ReadAllText(f), StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(net, "data", "validator-1", "heldout-images-idx3-ubyte")));
        Assert.Empty(Directory.GetFiles(Path.Combine(net, "run"), "*.pid"));
        // The final model beats chance by far: the coordinator tested it on MNIST's test set.
        var accuracy = double.Parse(AccuracyLine().Matches(stderr)[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.85, $"test accuracy after 3 rounds: {accuracy}");
    }

    [Fact]
    public async Task The_images_walkthrough_imports_a_folder_of_pngs_and_a_network_trains_on_it()
    {
        Learning.Tests.ImageImportFixtures.MakeImageFolder(Path.Combine(Dir, "my-photos"), perClass: 60);
        var (code, stdout, stderr) = await RunBlockAsync("images");
        Assert.True(code == 0, $"the walkthrough exited {code}:\n{stdout}\n{stderr}");
        Assert.Contains("imported 180 images in 3 classes (180 resized to 28x28)", stdout, StringComparison.Ordinal);
        Assert.Contains("verify ok: 3 round(s) of task 1 recomputed bit for bit", stdout, StringComparison.Ordinal);
        Assert.Equal("{\"classes\":[\"bars\",\"columns\",\"ring\"]}", File.ReadAllText(Path.Combine(Dir, "photonet", "data", "trainer-01", "classes.json")).Trim());
        // The coordinator tested each model on a tenth of the images that no node held.
        var accuracy = double.Parse(AccuracyLine().Matches(stderr)[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.8, $"test accuracy on the held-back images after 3 rounds: {accuracy}");
    }

    [Fact]
    public async Task Import_refuses_a_broken_image_by_name_and_writes_nothing()
    {
        var photos = Path.Combine(Dir, "my-photos");
        Learning.Tests.ImageImportFixtures.MakeImageFolder(photos, perClass: 2);
        var broken = Path.Combine(photos, "ring", "scan.jpg");
        await File.WriteAllTextAsync(broken, "truncated", TestContext.Current.CancellationToken);
        var (code, _, stderr) = await RunAsync("./skein data import --format imagefolder my-photos --out my-dataset");
        Assert.Equal(2, code);
        // Named as the user gave it: relative to where the command ran.
        Assert.Contains($"skein: error: {Path.Combine("my-photos", "ring", "scan.jpg")}: unreadable image", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Dir, "my-dataset")));
    }

    /// <summary>The shell block after <c>&lt;!-- walkthrough: NAME --&gt;</c> in README.md, exactly as written.</summary>
    internal static string Block(string name)
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var marker = $"<!-- walkthrough: {name} -->";
        var at = readme.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no {marker}");
        var open = readme.IndexOf("```sh\n", at, StringComparison.Ordinal);
        var close = readme.IndexOf("\n```", open + 6, StringComparison.Ordinal);
        return readme[(open + 6)..close] + "\n";
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunBlockAsync(string name)
    {
        var block = Block(name);
        Assert.Contains("./skein ", block, StringComparison.Ordinal);
        return await RunAsync(block);
    }

    /// <summary>Runs <paramref name="script"/> with bash in the test's folder, where <c>./skein</c> runs this build.</summary>
    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(string script)
    {
        var file = Path.Combine(Dir, "block.sh");
        await File.WriteAllTextAsync(file, "set -euo pipefail\n" + script, TestContext.Current.CancellationToken);
        return await _shell.BashAsync([file], new Dictionary<string, string?> { ["SKEIN_KEY_PASSWORD"] = null, ["SKEIN"] = null }, TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && File.Exists(Path.Combine(dir.FullName, "skein")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (README.md beside ./skein) is not above the test's folder");
    }

    public void Dispose() => _shell.Dispose();

    [GeneratedRegex(@"completed; test accuracy ([0-9.]+) after round 3")]
    private static partial Regex AccuracyLine();
}
