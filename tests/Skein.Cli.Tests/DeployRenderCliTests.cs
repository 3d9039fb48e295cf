using Skein.Cli;
using Skein.Market.Sdl;

namespace Skein.Cli.Tests;

public sealed class DeployRenderCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-render-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run(args);

    [Fact]
    public async Task Render_prints_a_valid_sdl_with_the_settings_applied()
    {
        var (code, stdout, stderr) = await Run("deploy", "render", "skein-validator",
            "--set", "SKEIN_COORDINATOR=http://127.0.0.1:7400/", "--set", "cpu=4", "--set", "price=1500");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal("", stderr);
        var doc = SdlDocument.Parse(stdout).Document!;
        Assert.Contains("SKEIN_COORDINATOR=http://127.0.0.1:7400/", doc.Services["validator"].Env!);
        Assert.Equal(4000ul, doc.ComputeProfiles["validator"].CpuMillis);
        Assert.Equal("1500", doc.Placements["akash"].Pricing["validator"].Amount);
    }

    [Fact]
    public async Task Render_to_a_file_names_the_keys_set_but_never_a_secret_value()
    {
        var path = Path.Combine(_dir, "deploy.yaml");
        var (code, stdout, stderr) = await Run("deploy", "render", "skein-trainer", "--out", path,
            "--set", "SKEIN_KEY_PASSWORD=correct-horse", "--set", "SKEIN_KEY_JSON={\"crypto\":{}}");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal("", stdout);
        Assert.Contains("SKEIN_KEY_JSON, SKEIN_KEY_PASSWORD", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("correct-horse", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("crypto", stderr, StringComparison.Ordinal);
        var doc = SdlDocument.Load(path).Document!;
        Assert.Contains("SKEIN_KEY_PASSWORD=correct-horse", doc.Services["trainer"].Env!);
    }

    [Fact]
    public async Task Render_refuses_an_unknown_variable_without_echoing_its_value()
    {
        var (code, stdout, stderr) = await Run("deploy", "render", "skein-trainer", "--set", "SKEIN_API_TOKEN=tok-123456");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Equal("", stdout);
        Assert.Contains("unknown variable SKEIN_API_TOKEN", stderr, StringComparison.Ordinal);
        Assert.Contains("SKEIN_COORDINATOR", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-123456", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu", "--set: expected KEY=value, got 'cpu'")]
    [InlineData("SKEIN_KEY_PASSWORD", "--set: expected KEY=value, got '<hidden>'")]
    public async Task Render_refuses_a_setting_without_a_value(string item, string message)
    {
        var (code, _, stderr) = await Run("deploy", "render", "skein-trainer", "--set", item);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_refuses_settings_that_make_the_sdl_invalid_with_the_sdl_errors()
    {
        var (code, _, stderr) = await Run("deploy", "render", "skein-trainer", "--set", "count=0");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("deploy.yaml: deployment.trainer.akash.count: count must be at least 1, got 0", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_of_an_unknown_template_lists_the_templates()
    {
        var (code, _, stderr) = await Run("deploy", "render", "skein-miner");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("template 'skein-miner' not found", stderr, StringComparison.Ordinal);
        Assert.Contains("skein-trainer-gpu", stderr, StringComparison.Ordinal);
    }
}
