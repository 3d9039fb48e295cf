using System.Text.Json;
using Skein.Learning.Data;

namespace Skein.Cli.Tests;

/// <summary>`skein data import` and `skein data partition` as a user types them, with their JSON.</summary>
public sealed class DataCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("skein-datacli-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Import_then_partition_gives_node_folders_and_a_test_set_named_in_the_json()
    {
        var photos = Path.Combine(_dir.FullName, "photos");
        Learning.Tests.ImageImportFixtures.MakeImageFolder(photos, perClass: 20);
        var dataset = Path.Combine(_dir.FullName, "dataset");
        var (code, stdout, stderr) = await CliRun.Run("data", "import", photos, "--format", "imagefolder", "--out", dataset, "--json");
        Assert.True(code == 0, stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(60, json.RootElement.GetProperty("images").GetInt32());
            Assert.Equal(20, json.RootElement.GetProperty("per_class").GetProperty("ring").GetInt32());
            Assert.Equal(60, json.RootElement.GetProperty("resized").GetInt32());
        }

        var nodes = Path.Combine(_dir.FullName, "nodes");
        (code, stdout, stderr) = await CliRun.Run("data", "partition", "--dataset", dataset, "--partition", "shards", "--clients", "3", "--validators", "2",
            "--heldout", "5", "--out", nodes, "--json");
        Assert.True(code == 0, stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            var folders = json.RootElement.GetProperty("folders").EnumerateArray().ToArray();
            Assert.Equal(["trainer-01", "trainer-02", "trainer-03", "validator-1", "validator-2"], folders.Select(f => f.GetProperty("name").GetString()));
            // 60 images: 10 held out by validators, 6 (a tenth) for the coordinator, 44 among the trainers.
            Assert.Equal(44, folders.Where(f => f.GetProperty("role").GetString() == "trainer").Sum(f => f.GetProperty("examples").GetInt32()));
            Assert.Equal(Path.Combine(nodes, "eval"), json.RootElement.GetProperty("eval").GetString());
            Assert.Equal("shards", json.RootElement.GetProperty("partition").GetString());
        }
        Assert.Equal(6, IdxFile.Read(Path.Combine(nodes, "eval", "eval-labels-idx1-ubyte")).Count);

        (code, _, stderr) = await CliRun.Run("data", "partition", "--dataset", dataset, "--clients", "3", "--out", nodes);
        Assert.Equal(2, code);
        Assert.Contains($"--out: {Path.Combine(nodes, "trainer-01")} already exists (--force to overwrite)", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await CliRun.Run("data", "partition", "--dataset", dataset, "--clients", "100", "--out", Path.Combine(_dir.FullName, "more"));
        Assert.Equal(2, code);
        Assert.Contains("--clients: 60 examples", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_with_another_size_and_no_resize_names_the_file_and_writes_nothing()
    {
        var photos = Path.Combine(_dir.FullName, "photos");
        Learning.Tests.ImageImportFixtures.MakeImageFolder(photos, perClass: 1);
        var output = Path.Combine(_dir.FullName, "out");
        var (code, _, stderr) = await CliRun.Run("data", "import", photos, "--format", "imagefolder", "--out", output, "--no-resize");
        Assert.Equal(2, code);
        Assert.Contains($"skein: error: {Path.Combine(photos, "bars", "000.png")}: 32x32 pixels, expected 28x28 (resizing is off)", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }
}
