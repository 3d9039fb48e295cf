using System.Text.Json;
using Skein.Cli;
using Skein.Market.Sdl;

namespace Skein.Cli.Tests;

public sealed class SdlCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-sdl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run(args);

    private static string Template(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "templates", name, "deploy.yaml");
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new InvalidOperationException($"template {name} not found above the test output");
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Broken() => Write("broken.yaml", File.ReadAllText(Template("skein-trainer"))
        .Replace("- port: 8080", "- port: 0", StringComparison.Ordinal)
        .Replace("denom: uact", "denom: usd", StringComparison.Ordinal));

    [Fact]
    public async Task Validate_exits_0_and_summarises_a_valid_sdl()
    {
        var (code, stdout, stderr) = await Run("sdl", "validate", Template("skein-coordinator"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("valid SDL 2.0: 1 service(s) (coordinator), 1 group(s) (akash), manifest sha256 ", stdout, StringComparison.Ordinal);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task Validate_exits_2_and_prints_every_error_as_file_path_message()
    {
        var file = Broken();
        var (code, stdout, stderr) = await Run("sdl", "validate", file);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Equal("", stdout);
        Assert.Equal(
            [
                $"{file}: services.trainer.expose[0].port: port must be between 1 and 65535, got 0",
                $"{file}: profiles.placement.akash.pricing.trainer.denom: denom must be uact or uakt, got 'usd'",
            ],
            stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Validate_json_is_one_object_with_groups_and_the_manifest_hash()
    {
        var file = Template("skein-trainer-gpu");
        var (code, stdout, _) = await Run("sdl", "validate", file, "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(file, root.GetProperty("file").GetString());
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.Equal("trainer-gpu", root.GetProperty("services")[0].GetString());
        var group = root.GetProperty("groups")[0];
        Assert.Equal("akash", group.GetProperty("name").GetString());
        var resource = group.GetProperty("resources")[0];
        Assert.Equal(8000, resource.GetProperty("cpu_millis").GetInt64());
        Assert.Equal(6, resource.GetProperty("gpu_models").GetArrayLength());
        Assert.Equal("10000", resource.GetProperty("price").GetProperty("amount").GetString());
        var expected = Convert.ToHexStringLower(SdlDocument.Load(file).Document!.ToManifest().Hash.Bytes);
        Assert.Equal(expected, root.GetProperty("manifest_sha256").GetString());
        Assert.Equal(0, root.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Validate_json_of_an_invalid_sdl_lists_the_errors_and_still_prints_them_on_stderr()
    {
        var (code, stdout, stderr) = await Run("sdl", "validate", Broken(), "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("manifest_sha256").ValueKind);
        var errors = json.RootElement.GetProperty("errors");
        Assert.Equal(2, errors.GetArrayLength());
        Assert.Equal("services.trainer.expose[0].port", errors[0].GetProperty("path").GetString());
        Assert.Equal(2, stderr.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public async Task Validate_of_a_missing_file_says_so_and_exits_2()
    {
        var (code, _, stderr) = await Run("sdl", "validate", Path.Combine(_dir, "none.yaml"));
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("none.yaml: (file): cannot be read", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Price_json_gives_per_block_hour_and_month_per_group_and_in_total()
    {
        var (code, stdout, _) = await Run("sdl", "price", Template("skein-trainer-gpu"), "--json", "--block-seconds", "6");
        Assert.Equal(ExitCodes.Ok, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(6m, root.GetProperty("block_seconds").GetDecimal());
        var group = root.GetProperty("groups")[0];
        Assert.Equal("akash", group.GetProperty("name").GetString());
        Assert.Equal("uact", group.GetProperty("denom").GetString());
        Assert.Equal(10000m, group.GetProperty("per_block").GetDecimal());
        Assert.Equal(6_000_000m, group.GetProperty("per_hour").GetDecimal());
        Assert.Equal(10000m * 30.437m * 86400m / 6m, group.GetProperty("per_month").GetDecimal());
        Assert.Equal(6m, root.GetProperty("total").GetProperty("usd_per_hour").GetDecimal());
    }

    [Fact]
    public async Task Price_prints_a_table_with_a_dollar_estimate_for_uact()
    {
        var (code, stdout, _) = await Run("sdl", "price", Template("skein-trainer"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("akash", stdout, StringComparison.Ordinal);
        Assert.Contains("0.59", stdout, StringComparison.Ordinal);
        Assert.Contains("at 6.098 s a block", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "--block-seconds must be > 0, got 0")]
    [InlineData("-6", "--block-seconds must be > 0, got -6")]
    public async Task Price_refuses_a_block_time_that_is_not_positive(string seconds, string message)
    {
        var (code, _, stderr) = await Run("sdl", "price", Template("skein-trainer"), "--block-seconds", seconds);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Price_of_an_invalid_sdl_prints_its_errors_and_exits_2()
    {
        var (code, stdout, stderr) = await Run("sdl", "price", Broken());
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Equal("", stdout);
        Assert.Contains("denom must be uact or uakt", stderr, StringComparison.Ordinal);
    }
}
