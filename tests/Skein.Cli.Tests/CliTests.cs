using System.Text.Json;
using Skein.Cli;

namespace Skein.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run(args);

    [Theory]
    [InlineData("--fraction", "1.5", "--fraction must be in (0, 1], got 1.5")]
    [InlineData("--fraction", "0", "--fraction must be in (0, 1], got 0")]
    [InlineData("--clients", "0", "--clients must be >= 1, got 0")]
    [InlineData("--rounds", "-3", "--rounds must be >= 1, got -3")]
    [InlineData("--epochs", "0", "--epochs must be >= 1, got 0")]
    [InlineData("--batch-size", "0", "--batch-size must be >= 1, got 0")]
    [InlineData("--lr", "-0.1", "--lr must be a finite number > 0, got -0.1")]
    [InlineData("--lr-decay", "1.5", "--lr-decay must be in (0, 1]")]
    [InlineData("--alpha", "0", "--alpha must be a finite number > 0")]
    [InlineData("--parallelism", "0", "--parallelism must be >= 1")]
    [InlineData("--target", "2", "--target must be in (0, 1]")]
    public async Task Out_of_range_values_name_the_option_and_the_rule(string option, string value, string message)
    {
        var (code, _, err) = await Run("simulate", option, value, "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "mnist")), "invalid options must fail before any download");
    }

    [Theory]
    [InlineData("--trainers", "2", "--trainers must be between 3 and 50, got 2")]
    [InlineData("--validators", "0", "--validators must be between 1 and 10, got 0")]
    [InlineData("--rounds", "0", "--rounds must be between 1 and 10000, got 0")]
    [InlineData("--rounds", "-4", "--rounds must be between 1 and 10000, got -4")]
    [InlineData("--target", "1.5", "--target must be in (0, 1], got 1.5")]
    public async Task Demo_options_are_checked_before_any_download_or_process(string option, string value, string message)
    {
        var (code, _, err) = await Run("demo", option, value, "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "mnist")), "invalid options must fail before any download");
    }

    [Theory]
    [InlineData("--model", "resnet", "resnet")]
    [InlineData("--partition", "random", "random")]
    [InlineData("--rounds", "abc", "abc")]
    [InlineData("--seed", "-1", "-1")]
    public async Task Unparseable_values_fail_with_a_message_and_non_zero_exit(string option, string value, string mentioned)
    {
        var (code, _, err) = await Run("simulate", option, value);
        Assert.NotEqual(0, code);
        Assert.Contains(mentioned, err, StringComparison.Ordinal);
        Assert.Contains(option, err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--strategy", "nonsense" }, "nonsense")]
    [InlineData(new[] { "--strategy-param", "beta" }, "--strategy-param: expected name=number")]
    [InlineData(new[] { "--strategy", "fedprox", "--strategy-param", "mu=-1" }, "strategy.parameters.mu")]
    [InlineData(new[] { "--attack", "teleport" }, "attack.type")]
    [InlineData(new[] { "--attack", "sign_flip", "--attack-fraction", "1" }, "attack.fraction")]
    [InlineData(new[] { "--attack", "gaussian", "--attack-param", "sigma=0" }, "attack.params.sigma")]
    public async Task Strategy_and_attack_options_are_checked_before_any_download(string[] args, string message)
    {
        var (code, _, err) = await Run(["simulate", .. args, "--data-dir", _dir]);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "mnist")));
    }

    [Fact]
    public async Task Unknown_commands_and_options_fail()
    {
        var (code, _, err) = await Run("frobnicate");
        Assert.NotEqual(0, code);
        Assert.Contains("frobnicate", err, StringComparison.Ordinal);
        (code, _, err) = await Run("demo", "--no-such-option");
        Assert.NotEqual(0, code);
        Assert.Contains("--no-such-option", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--models", "2nn,resnet", "--models: 'resnet'")]
    [InlineData("--samples", "0", "--samples must be >= 1")]
    [InlineData("--parallelism", "0", "--parallelism must be between 1 and --samples")]
    public async Task Bench_train_validates_its_options(string option, string value, string message)
    {
        var (code, _, err) = await Run("bench", "train", option, value, "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_train_measures_a_byte_level_transformer_and_its_adapter_without_mnist()
    {
        // No MNIST in the data folder: a transformer-only run must not need it.
        var (code, stdout, err) = await Run("bench", "train", "--model", "transformer-tiny", "--lora", "--steps", "2", "--batch-size", "2", "--data-dir", _dir, "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var runs = json.RootElement.GetProperty("language").EnumerateArray().ToArray();
        Assert.Equal(2, runs.Length);
        var (full, adapter) = (runs[0], runs[1]);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, full.GetProperty("lora").ValueKind);
        Assert.Equal(8, adapter.GetProperty("lora").GetProperty("rank").GetInt32());
        Assert.All(runs, r => Assert.True(r.GetProperty("tokens_per_second").GetDouble() > 0));
        // The adapter trains and uploads a fraction of the model.
        Assert.True(adapter.GetProperty("trainable_parameters").GetInt32() < full.GetProperty("parameters").GetInt32() / 4);
        Assert.True(adapter.GetProperty("adapter_upload_bytes").GetInt64() < full.GetProperty("full_upload_bytes").GetInt64() / 4);
    }

    [Fact]
    public async Task Bench_train_refuses_an_unknown_model_naming_the_transformers_too()
    {
        var (code, _, err) = await Run("bench", "train", "--model", "gpt-9", "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("'gpt-9' is not one of logreg, 2nn, cnn, transformer-tiny", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--mode", "average", "--mode: must be exact or plain")]
    [InlineData("--model", "gpt-9", "--model: 'gpt-9' is not one of transformer-tiny")]
    [InlineData("--rounds", "0", "--rounds: must be in [1, 1000]")]
    public async Task Bench_text_validates_its_options_before_fetching_anything(string option, string value, string message)
    {
        var (code, stdout, err) = await Run("bench", "text", option, value, "--data-dir", _dir, "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.Empty(stdout);
        Assert.Empty(Directory.GetDirectories(_dir));
    }

    [Fact]
    public async Task A_summary_into_a_missing_folder_is_refused_before_training()
    {
        var (code, _, err) = await Run("demo", "--summary", Path.Combine(_dir, "missing", "s.json"), "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--summary", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_mnist_dir_is_a_data_error()
    {
        var (code, _, err) = await Run("simulate", "--mnist-dir", Path.Combine(_dir, "nowhere"));
        Assert.Equal(ExitCodes.DataUnavailable, code);
        Assert.Contains("--mnist-dir", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mnist_dir_with_wrong_files_is_refused()
    {
        var own = Directory.CreateDirectory(Path.Combine(_dir, "fake-mnist")).FullName;
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            await File.WriteAllBytesAsync(Path.Combine(own, name), [0, 0, 8, 1, 0, 0, 0, 0], TestContext.Current.CancellationToken);
        }
        var (code, _, err) = await Run("simulate", "--mnist-dir", own);
        Assert.Equal(ExitCodes.DataUnavailable, code);
        Assert.Contains("SHA-256", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_on_real_mnist_prints_one_json_object_and_writes_the_summary()
    {
        var summary = Path.Combine(_dir, "summary.json");
        var (code, stdout, err) = await Run("simulate", "--model", "logreg", "--clients", "10", "--fraction", "0.5", "--rounds", "2",
            "--batch-size", "50", "--lr", "0.05", "--target", "0.8", "--json", "--summary", summary, "--data-dir", _dir);
        Assert.True(code == 0, err);

        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("logreg", root.GetProperty("model").GetString());
        Assert.Equal(10, root.GetProperty("clients").GetInt32());
        var rounds = root.GetProperty("rounds");
        Assert.Equal(2, rounds.GetArrayLength());
        Assert.Equal(1, rounds[0].GetProperty("round").GetInt32());
        foreach (var field in new[] { "accuracy", "loss", "seconds" })
        {
            Assert.True(rounds[1].GetProperty(field).GetDouble() > 0, field);
        }
        var final = root.GetProperty("final_accuracy").GetDouble();
        Assert.InRange(final, 0.8, 1.0);
        Assert.Equal(rounds[1].GetProperty("accuracy").GetDouble(), final);
        Assert.True(root.GetProperty("wall_seconds").GetDouble() > 0);
        Assert.True(root.GetProperty("train_samples_per_second").GetDouble() > 0);
        Assert.Equal(64, root.GetProperty("model_sha256").GetString()!.Length);

        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(summary, TestContext.Current.CancellationToken));
        Assert.Equal(final, written.RootElement.GetProperty("final_accuracy").GetDouble());
    }

    [Fact]
    public async Task Bench_fl_runs_a_scenario_and_reports_the_target_round()
    {
        var config = Path.Combine(_dir, "tiny.json");
        await File.WriteAllTextAsync(config, """
            { "name": "tiny", "model": "logreg", "clients": 10, "fraction": 0.2, "batch_size": 50, "lr": 0.05,
              "target": 0.5, "max_rounds": 2, "paper_rounds": 7 }
            """, TestContext.Current.CancellationToken);
        var (code, stdout, err) = await Run("bench", "fl", "--config", config, "--json", "--data-dir", _dir);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("rounds").GetArrayLength());
        Assert.Equal(0.5, root.GetProperty("target").GetDouble());
        Assert.Equal(1, root.GetProperty("target_round").GetInt32());
        Assert.Equal(7, root.GetProperty("paper_rounds").GetInt32());
        Assert.InRange(root.GetProperty("final_accuracy").GetDouble(), 0.5, 1.0);
        Assert.True(root.GetProperty("wall_seconds").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_fl_refuses_a_bad_scenario_with_the_field_named()
    {
        var config = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(config, """{ "fraction": 3 }""", TestContext.Current.CancellationToken);
        var (code, _, err) = await Run("bench", "fl", "--config", config);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("fraction must be in (0, 1]", err, StringComparison.Ordinal);
        (code, _, err) = await Run("bench", "fl", "--config", Path.Combine(_dir, "missing.json"));
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("missing.json", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_aggregate_reports_throughput_beside_a_copy()
    {
        var (code, stdout, err) = await Run("bench", "aggregate", "--n", "4", "--p", "5000", "--strategies", "fedavg", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal("fedavg", r.GetProperty("strategy").GetString());
        Assert.Equal(4, r.GetProperty("n").GetInt32());
        Assert.Equal(5000, r.GetProperty("p").GetInt32());
        var gbps = r.GetProperty("gbps").GetDouble();
        var copy = r.GetProperty("copy_gbps").GetDouble();
        Assert.True(gbps > 0 && copy > 0);
        Assert.Equal(gbps / copy, r.GetProperty("ratio").GetDouble(), 1e-9);
        (code, _, err) = await Run("bench", "aggregate", "--n", "x");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--n", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_fl_matrix_with_a_diverging_run_prints_one_json_object_with_every_run()
    {
        // A server learning rate of 1e20 blows the global model up in its first round: its loss is NaN.
        var config = Path.Combine(_dir, "diverge.json");
        await File.WriteAllTextAsync(config, """
            { "name": "diverge", "model": "2nn", "clients": 10, "fraction": 0.2, "batch_size": 50, "lr": 0.05, "max_rounds": 2,
              "matrix": { "strategies": [ { "name": "fedavg" }, { "name": "fedavgm", "params": { "server_lr": 1e20 } }, { "name": "median" } ] } }
            """, TestContext.Current.CancellationToken);
        var summary = Path.Combine(_dir, "diverge-summary.json");
        var (code, stdout, err) = await Run("bench", "fl", "--config", config, "--json", "--summary", summary, "--data-dir", _dir);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(stdout);
        var runs = doc.RootElement.GetProperty("runs");
        Assert.Equal(3, runs.GetArrayLength());
        Assert.Equal(["ok", "diverged", "ok"], runs.EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        var diverged = runs[1];
        Assert.Equal(1, diverged.GetProperty("diverged_round").GetInt32());
        Assert.Equal(JsonValueKind.Null, diverged.GetProperty("rounds")[0].GetProperty("loss").ValueKind);
        Assert.Equal(1, doc.RootElement.GetProperty("diverged_runs").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("failed_runs").GetInt32());
        foreach (var i in new[] { 0, 2 })
        {
            Assert.InRange(runs[i].GetProperty("final_accuracy").GetDouble(), 0.5, 1.0);
            Assert.Equal(JsonValueKind.Null, runs[i].GetProperty("diverged_round").ValueKind);
        }
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(summary, TestContext.Current.CancellationToken));
        Assert.Equal(3, written.RootElement.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task Simulate_json_of_a_diverging_run_is_valid_and_says_where_it_diverged()
    {
        var (code, stdout, err) = await Run("simulate", "--model", "2nn", "--clients", "10", "--fraction", "0.2", "--rounds", "2",
            "--batch-size", "50", "--strategy", "fedavgm", "--strategy-param", "server_lr=1e20", "--json", "--data-dir", _dir);
        Assert.True(code == ExitCodes.Ok, err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("diverged").GetBoolean());
        Assert.Equal(1, root.GetProperty("diverged_round").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("final_loss").ValueKind);
        Assert.Equal(2, root.GetProperty("rounds").GetArrayLength());
    }

    [Fact]
    public async Task An_unanticipated_exception_is_one_line_and_exit_code_70_not_a_stack_trace()
    {
        var root = new System.CommandLine.RootCommand();
        root.SetAction((Func<System.CommandLine.ParseResult, int>)(_ => throw new InvalidOperationException("the disk vanished")));
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await SkeinCommand.InvokeAsync(root, [], output, error, TestContext.Current.CancellationToken);
        Assert.Equal(ExitCodes.InternalError, code);
        Assert.Contains("skein: internal error: InvalidOperationException: the disk vanished", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }
}
