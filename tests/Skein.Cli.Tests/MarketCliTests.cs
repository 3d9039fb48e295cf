using Skein.Cli.Market;

namespace Skein.Cli.Tests;

/// <summary>The market commands' input rules: every problem names its option or variable, and secrets are never echoed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MarketCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-market-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run(args);

    private Dictionary<string, string> Env(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["SKEIN_ROLE"] = "trainer",
            ["SKEIN_COORDINATOR"] = "http://127.0.0.1:7400/",
            ["SKEIN_KEY_JSON"] = """{"address":"00"}""",
            ["SKEIN_KEY_PASSWORD"] = "hunter2",
            ["SKEIN_DATA"] = _dir,
            ["SKEIN_TASK"] = "3",
            ["SKEIN_STAKE"] = "50",
        };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }
        return env;
    }

    [Fact]
    public void Run_from_env_runs_a_node_with_the_templates_variables_and_a_private_key_file()
    {
        var args = RunFromEnvCommand.Arguments(Env(("SKEIN_BEHAVIOUR", "sign-flip")));
        var keyFile = Path.Combine(_dir, "state", "key.json");
        Assert.Equal(["node", "--key-file", keyFile, "--password-env", "SKEIN_KEY_PASSWORD", "--coordinator", "http://127.0.0.1:7400/", "--data", _dir,
            "--state", Path.Combine(_dir, "state"), "--trainer-stake", "50", "--task", "3", "--behaviour", "sign-flip"], args);
        Assert.Equal("""{"address":"00"}""", File.ReadAllText(keyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        Assert.DoesNotContain("hunter2", string.Join(' ', args), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SKEIN_ROLE", "", "SKEIN_ROLE: must be set")]
    [InlineData("SKEIN_ROLE", "miner", "SKEIN_ROLE: must be trainer, validator or coordinator, got 'miner'")]
    [InlineData("SKEIN_COORDINATOR", "ftp://x", "SKEIN_COORDINATOR: must be an http(s) URL, got 'ftp://x'")]
    [InlineData("SKEIN_KEY_PASSWORD", "", "SKEIN_KEY_PASSWORD: must be set")]
    [InlineData("SKEIN_KEY_JSON", "", "SKEIN_KEY_JSON: must be set to the content of the node's key file")]
    [InlineData("SKEIN_TASK", "one", "SKEIN_TASK: 'one' is not a task id")]
    [InlineData("SKEIN_DATA", "", "SKEIN_DATA: must be set")]
    public void Run_from_env_names_the_variable_and_the_rule(string variable, string value, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => RunFromEnvCommand.Arguments(Env((variable, value))));
        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_from_env_runs_a_coordinator_with_its_genesis_and_task()
    {
        var args = RunFromEnvCommand.Arguments(Env(("SKEIN_ROLE", "coordinator"), ("SKEIN_PORT", "7400"), ("SKEIN_API_PORT", "7401"),
            ("SKEIN_GENESIS_JSON", "{\"chain_id\":1}"), ("SKEIN_TASK_JSON", "{\"name\":\"t\"}")));
        Assert.Equal("coordinator", args[0]);
        Assert.Contains("--genesis", args);
        Assert.Equal("{\"chain_id\":1}", File.ReadAllText(args[Array.IndexOf(args, "--genesis") + 1]));
        Assert.Equal("7401", args[Array.IndexOf(args, "--api-port") + 1]);
    }

    [Fact]
    public async Task Deploy_names_a_bad_setting_and_never_echoes_a_secret()
    {
        var (code, _, err) = await Run("deploy", "skein-trainer", "--set", "SKEIN_KEY_PASSWORD", "--market", "http://127.0.0.1:1/", "--key", "nobody");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--set: expected KEY=value, got 'SKEIN_KEY_PASSWORD'", err, StringComparison.Ordinal);

        (code, _, err) = await Run("deploy", "skein-trainer", "--set", "SKEIN_NOPE=1", "--set", "SKEIN_KEY_PASSWORD=hunter2", "--market", "http://127.0.0.1:1/", "--key", "nobody");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("SKEIN_NOPE", err, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", err, StringComparison.Ordinal);

        (code, _, err) = await Run("deploy", "no-such-template", "--market", "http://127.0.0.1:1/", "--key", "nobody");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("no-such-template", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_without_a_reachable_market_says_so()
    {
        var (code, _, err) = await Run("deploy", "skein-trainer", "--market", "http://127.0.0.1:1/", "--key", "nobody");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("127.0.0.1:1", err, StringComparison.Ordinal);
        (code, _, err) = await Run("deploy", "list", "--market", "not a url", "--key", "nobody");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--market: must be an http(s) URL", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--gpu", "a100=x" }, "--gpu: a100=x: the count must be a positive integer")]
    [InlineData(new[] { "--gpu", "a100" }, "--gpu: expected key=value, got 'a100'")]
    [InlineData(new[] { "--memory", "lots" }, "--memory: 'lots' is not a size")]
    [InlineData(new[] { "--cpu", "0" }, "--cpu: '0' is not a CPU amount")]
    [InlineData(new[] { "--price-script", "/nowhere/price.sh" }, "--price-script: '/nowhere/price.sh' does not exist")]
    [InlineData(new[] { "--attribute", "region" }, "--attribute: expected key=value, got 'region'")]
    public async Task Provider_options_name_the_option_and_the_rule(string[] args, string message)
    {
        var (code, _, err) = await Run(["provider", "--state-dir", _dir, "--market", "http://127.0.0.1:1/", "--key", "nobody", .. args]);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }
}
