using Skein.Simulation;

namespace Skein.Simulation.Tests;

public sealed class FlBenchConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-flcfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Skein.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above the test binaries");
    }

    [Fact]
    public void Every_shipped_scenario_loads_and_validates()
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "bench", "fl"), "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var config = FlBenchConfig.Load(file);
            Assert.NotEmpty(config.ToRuns(2));
        }
    }

    [Fact]
    public void A_matrix_expands_to_every_strategy_against_every_attack()
    {
        var config = FlBenchConfig.Load(Write("""
            { "name": "m", "max_rounds": 3,
              "matrix": { "strategies": [ { "name": "fedavg" }, { "name": "fedprox", "params": { "mu": 0.1 } } ],
                          "attacks": [ null, { "type": "sign_flip", "fraction": 0.2 }, { "type": "gaussian", "fraction": 0.1 } ] } }
            """));
        var runs = config.ToRuns(2);
        Assert.Equal(6, runs.Count);
        Assert.Null(runs[0].Attack);
        Assert.Equal("fedprox", runs[5].Strategy.Name);
        Assert.Equal(Attacks.AttackKind.Gaussian, runs[5].Attack!.Kind);
        Assert.All(runs, r => Assert.Equal(3, r.Rounds));
    }

    [Theory]
    [InlineData("""{ "name": "x", "modle": "2nn" }""", "modle")]
    [InlineData("""{ "model": "resnet" }""", "model: must be one of")]
    [InlineData("""{ "fraction": 1.5 }""", "fraction must be in (0, 1]")]
    [InlineData("""{ "batch_size": 0 }""", "batch_size must be >= 1")]
    [InlineData("""{ "max_rounds": 0 }""", "max_rounds: must be >= 1")]
    [InlineData("""{ "strategy": { "name": "nonsense" } }""", "nonsense")]
    [InlineData("""{ "attack": { "type": "sign_flip", "fraction": 2 } }""", "attack.fraction")]
    [InlineData("""{ "lr": "fast" }""", "$.lr")]
    [InlineData("""{ "matrix": { "strategies": [] } }""", "matrix.strategies")]
    [InlineData("""not json""", "invalid JSON")]
    public void Bad_scenarios_name_the_field(string json, string expected)
    {
        var path = Write(json);
        var ex = Assert.Throws<FormatException>(() => FlBenchConfig.Load(path));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => FlBenchConfig.Load(Path.Combine(_dir, "none.json")));
        Assert.Contains("none.json", ex.Message, StringComparison.Ordinal);
    }
}
