using System.Text.Json;
using Skein.Learning.Data;
using Skein.Ledger.Crypto;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>`skein init network`: what it writes, what it refuses, and a TLS-pinned network it makes that runs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InitNetworkTests : IDisposable
{
    private readonly ShellFolder _shell = new();
    // A variable of this test's own: tests run side by side in one process, and the environment is shared.
    private readonly string _passwordVariable = "SKEIN_TEST_INIT_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private const string Password = "init-test-password";

    public InitNetworkTests() => Environment.SetEnvironmentVariable(_passwordVariable, Password);

    /// <summary>A small dataset of three classes of drawn images, as skein data import writes it.</summary>
    private string Dataset(int perClass = 30)
    {
        var photos = Path.Combine(_shell.Dir, "photos");
        Learning.Tests.ImageImportFixtures.MakeImageFolder(photos, perClass);
        var dataset = Path.Combine(_shell.Dir, "dataset");
        ImageImport.FromImageFolder(photos, new ImageImportOptions()).Write(dataset, "train");
        return dataset;
    }

    private Task<(int Code, string Out, string Err)> Init(params string[] args) =>
        CliRun.Run(["init", "network", .. args, "--password-env", _passwordVariable]);

    [Fact]
    public async Task It_writes_keys_a_genesis_funding_them_a_task_and_one_folder_per_node()
    {
        var net = Path.Combine(_shell.Dir, "net");
        var (code, stdout, stderr) = await Init(net, "--data", Dataset(), "--trainers", "4", "--validators", "2", "--rounds", "7", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(4, root.GetProperty("trainers").GetArrayLength());
        Assert.Equal(2, root.GetProperty("validators").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("tls").ValueKind);

        // Every key opens with the password, and the genesis funds exactly those addresses.
        var genesis = GenesisJson.Deserialize(await File.ReadAllTextAsync(Path.Combine(net, "genesis.json"), TestContext.Current.CancellationToken));
        Assert.Null(genesis.Validate());
        var keyFiles = Directory.GetFiles(Path.Combine(net, "keys"), "*.json").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(7, keyFiles.Length);
        var addresses = keyFiles.Select(f =>
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
            using var key = KeyFile.Decrypt(File.ReadAllText(f), Password, Path.GetFileNameWithoutExtension(f));
            return key.Address;
        }).ToHashSet();
        Assert.True(addresses.SetEquals(genesis.Allocations.Select(a => a.Address)));
        Assert.Throws<KeyStoreException>(() => KeyFile.Decrypt(File.ReadAllText(keyFiles[0]), "wrong", "k"));

        var spec = Core.TaskSpec.Parse(await File.ReadAllTextAsync(Path.Combine(net, "task.json"), TestContext.Current.CancellationToken));
        Assert.Equal((7u, 4u, 2u), (spec.Rounds, spec.TrainersPerRound, spec.ValidatorsPerRound));
        // The dataset's 90 examples, dealt out once: validators' held-out first, 9 for the coordinator's test set, the
        // rest to trainers; few examples a trainer, so the example task trains several epochs in small batches.
        var folders = root.GetProperty("data").GetProperty("folders").EnumerateArray().ToArray();
        Assert.Equal(81, folders.Sum(f => f.GetProperty("examples").GetInt32()));
        Assert.Equal(9, IdxFile.Read(Path.Combine(net, "data", "eval", "eval-labels-idx1-ubyte")).Count);
        Assert.Equal((20, 10), (spec.Training.Epochs, spec.Training.BatchSize));
        Assert.All(folders.Where(f => f.GetProperty("role").GetString() == "validator"),
            f => Assert.True(File.Exists(Path.Combine(f.GetProperty("folder").GetString()!, "heldout-labels-idx1-ubyte"))));
        var start = await File.ReadAllTextAsync(Path.Combine(net, "start.sh"), TestContext.Current.CancellationToken);
        Assert.Contains("--start-when-joined 4:2", start, StringComparison.Ordinal);
        // The processes read the password from the variable init was told of, not the default one.
        Assert.Equal(7, start.Split($"--password-env {_passwordVariable}").Length - 1);
        Assert.Equal(6, start.Split("\"$SKEIN\" node ").Length - 1);
        Assert.DoesNotContain(Password, start + await File.ReadAllTextAsync(Path.Combine(net, "README.md"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_option_and_leave_no_folder_behind()
    {
        var dataset = Dataset(4);
        var net = Path.Combine(_shell.Dir, "net");

        var (code, _, err) = await Init(net, "--data", dataset, "--trainers", "10", "--validators", "1", "--partition", "shards");
        Assert.Equal(2, code);
        Assert.Contains("--trainers: 12 examples, 2 held out for validators and the coordinator's test set, leave 10 for 10 trainers, who need at least 20 (2 shards each)", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(net), "a refused init left its folder behind");

        (code, _, err) = await Init(net, "--data", Path.Combine(_shell.Dir, "nowhere"));
        Assert.Equal(2, code);
        Assert.Contains("--dataset: must be mnist or a dataset folder", err, StringComparison.Ordinal);

        var task = Path.Combine(_shell.Dir, "big.json");
        await File.WriteAllTextAsync(task, """
            { "name": "big", "model": "2nn", "rounds": 2, "trainers_per_round": 10, "validators_per_round": 1, "reward_pool": "20", "min_stake": "10" }
            """, TestContext.Current.CancellationToken);
        (code, _, err) = await Init(net, "--data", dataset, "--task", task);
        Assert.Equal(2, code);
        Assert.Contains($"--task: {task} picks 10 trainers and 1 validators a round, but the network has 3 and 1", err, StringComparison.Ordinal);

        (code, _, err) = await Init(net, "--data", dataset, "--task", "mnist-gpt");
        Assert.Contains("--task: 'mnist-gpt' is neither a file nor an example (mnist-2nn, mnist-cnn, mnist-2nn-shards)", err, StringComparison.Ordinal);

        (code, _, err) = await Init(net, "--data", dataset, "--host", "coord.example.org");
        Assert.Contains("--host: only with --tls", err, StringComparison.Ordinal);

        (code, _, err) = await CliRun.Run("init", "network", net, "--data", dataset, "--password-env", "SKEIN_TEST_NEVER_SET_VARIABLE");
        Assert.Equal(2, code);
        Assert.Contains("--password-env: set SKEIN_TEST_NEVER_SET_VARIABLE", err, StringComparison.Ordinal);

        Directory.CreateDirectory(net);
        await File.WriteAllTextAsync(Path.Combine(net, "mine.txt"), "keep me", TestContext.Current.CancellationToken);
        (code, _, err) = await Init(net, "--data", dataset);
        Assert.Equal(2, code);
        Assert.Contains("is not empty", err, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(net, "mine.txt"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_network_made_with_tls_runs_pinned_and_verify_without_the_pin_is_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var net = Path.Combine(_shell.Dir, "tnet");
        var (code, stdout, stderr) = await Init(net, "--data", Dataset(), "--trainers", "3", "--validators", "1", "--rounds", "2", "--tls", "--host", "coord.example.org", "--json");
        Assert.True(code == 0, stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(["localhost", "127.0.0.1", "coord.example.org"], json.RootElement.GetProperty("tls").GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));
        }
        var launcher = _shell.Launcher;
        try
        {
            var (startCode, startOut, startErr) = await Bash([Path.Combine(net, "start.sh")], ct);
            Assert.True(startCode == 0, startOut + startErr);
            var api = (await File.ReadAllTextAsync(Path.Combine(net, "api-url"), ct)).Trim();
            Assert.StartsWith("https://127.0.0.1:", api, StringComparison.Ordinal);

            var (verifyCode, verifyOut, verifyErr) = await Bash([launcher, "verify", "--coordinator", api, "--task", "1", "--wait", "--timeout", "300",
                "--tls-pin", Path.Combine(net, "tls", "coordinator.pin.pem")], ct);
            Assert.True(verifyCode == 0, verifyOut + verifyErr);
            Assert.Contains("verify ok: 2 round(s) of task 1", verifyOut, StringComparison.Ordinal);

            var (unpinned, _, unpinnedErr) = await Bash([launcher, "verify", "--coordinator", api, "--task", "1"], ct);
            Assert.NotEqual(0, unpinned);
            Assert.Contains("SSL", unpinnedErr, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            var (stopCode, stopOut, _) = await Bash([Path.Combine(net, "stop.sh")], CancellationToken.None);
            Assert.Equal(0, stopCode);
            Assert.Contains("stopped", stopOut, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(net, "run"), "*.pid"));
    }

    private Task<(int Code, string Out, string Err)> Bash(string[] command, CancellationToken ct) =>
        _shell.BashAsync(command, new Dictionary<string, string?> { [_passwordVariable] = Password }, TimeSpan.FromMinutes(6), ct);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_passwordVariable, null);
        _shell.Dispose();
    }
}
