using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Learning.Tasks;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;

namespace Skein.Cli.Tests;

/// <summary><c>skein model merge-winner</c>: a tournament window's winner into the registry, with its lineage; refusals that name the option.</summary>
public sealed class MergeWinnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-merge-winner-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Spec(string baseHash, string mode) => $$"""
        {
          "name": "merge-winner", {{mode}}
          "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "rank": 4, "alpha": 8 } },
          "data": { "dataset": "text" }, "training": { "batch_size": 8, "lr": 0.01, "steps": 5 }, "validation": { "score": "bpc" },
          "rounds": 1, "trainers_per_round": 2, "validators_per_round": 1, "reward_pool": "10", "min_stake": "1", "reject_below": 0.25
        }
        """;

    private const string Tournament = "\"mode\": \"tournament\", \"tournament\": { \"submissions_per_trainer\": 1 },";

    [Fact]
    public void The_winner_is_registered_as_an_adapter_over_the_base_and_a_merged_model_over_the_adapter()
    {
        var config = TransformerConfig.Tiny;
        var baseBytes = config.Layout().ToSafeTensors(config.InitialParameters(4));
        var spec = TaskSpec.Parse(Spec(Hashing.Sha256Hex(baseBytes), Tournament));
        var layout = TaskModels.Layout(spec);
        var adapter = TaskModels.InitialParameters(spec, 1);
        // A winner that moved B: the merged model must differ from the base.
        for (var i = layout.OffsetOf(1); i < layout.OffsetOf(1) + 64; i++)
        {
            adapter[i] = 0.05f;
        }
        var adapterBytes = layout.ToSafeTensors(adapter);
        var folder = ModelRegistry.DefaultDirectory(_dir);

        var winner = TournamentWinner.Register(folder, spec, 7, 2, baseBytes, adapterBytes, "trainer-03 0xabc", "0x" + new string('d', 64));

        Assert.Equal(["merged", "adapter", "base"], winner.Lineage.Select(l => l.Kind));
        Assert.Equal(Hashing.Sha256Hex(adapterBytes), winner.Adapter);
        Assert.All(winner.Lineage.Take(2), l => Assert.Equal(["trainer-03 0xabc"], l.Contributors));
        Assert.All(winner.Lineage.Take(2), l => Assert.Equal(2u, l.Round));
        using var registry = new ModelRegistry(folder);
        var merged = config.Layout().FromSafeTensors(SafeTensors.Parse(registry.ReadFile(winner.MergedModel).Bytes!));
        var expected = LoraAggregation.Merge(config, TaskModels.Lora(spec), config.Layout().FromSafeTensors(SafeTensors.Parse(baseBytes)), adapter);
        Assert.Equal(expected, merged);
        Assert.NotEqual(config.Layout().FromSafeTensors(SafeTensors.Parse(baseBytes)), merged);
        Assert.Equal(7UL, registry.Get(winner.MergedModel)!.TaskId);
    }

    [Fact]
    public async Task A_settled_windows_winner_is_verified_and_registered_with_its_trainer_and_lineage()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "coordinator-models");
        var baseHash = Coordinator.Tests.NetworkNodes.RegisteredBase(registryFolder);
        string[] trainers = ["t1", "t2"];
        string[] validators = ["v1"];
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Timings = new RoundTimings(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)) { TournamentQuiet = TimeSpan.FromSeconds(2) },
            ModelRegistry = registryFolder,
        };
        await using var host = await CoordinatorHost.StartAsync(options, Coordinator.Tests.NetworkNodes.Key("coordinator"),
            Coordinator.Tests.NetworkNodes.GenesisFor(96, ["coordinator", .. trainers, .. validators]), NullLoggerFactory.Instance, ct);
        var spec = Spec(baseHash, Tournament).Replace("\"trainers_per_round\": 2,", "", StringComparison.Ordinal).Replace("\"min_stake\": \"1\"", "\"min_stake\": \"10\"", StringComparison.Ordinal);
        var taskId = await host.HostTaskAsync(spec, 1, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var nodes = new List<Task>();
        for (var i = 0; i < trainers.Length; i++)
        {
            var steps = 10 * (i + 1);
            nodes.Add(await Coordinator.Tests.NetworkNodes.RunTrainerAsync(host, _dir, trainers[i], Coordinator.Tests.NetworkNodes.Text(i, 12_000),
                o => o with { Tries = [new Node.TournamentTry(steps, 0.05)] }, stop.Token));
        }
        nodes.Add(await Coordinator.Tests.NetworkNodes.RunValidatorAsync(host, _dir, "v1", "held.txt", Coordinator.Tests.NetworkNodes.Text(5, 2_500), stop.Token));
        await Coordinator.Tests.NetworkNodes.WaitJoinedAsync(host, taskId, trainers.Length, validators.Length);
        host.StartEngine(taskId);
        await host.Engines[0].WaitAsync(TimeSpan.FromSeconds(240), ct);
        await stop.CancelAsync();
        var window = (await host.Context.Ledger.GetRoundAsync(taskId, 1, ct))!;
        var best = window.Outcomes.Where(o => o.Accepted).MaxBy(o => o.ConsensusScore);
        Assert.NotNull(best);

        var (code, stdout, err) = await CliRun.Run("model", "merge-winner", "--coordinator", host.ApiUri.ToString(), "--task", $"{taskId}", "--data-dir", _dir, "--json");

        Assert.True(code == ExitCodes.Ok, err);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(1u, root.GetProperty("window").GetUInt32());
        Assert.Equal(best.Trainer.ToString(), root.GetProperty("trainer").GetString());
        Assert.Equal(window.NewModelHash.ToString()[2..], root.GetProperty("adapter").GetString());
        Assert.Equal(["merged", "adapter", "base"], root.GetProperty("lineage").EnumerateArray().Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal(baseHash, root.GetProperty("lineage")[2].GetProperty("hash").GetString());
        using var registry = new ModelRegistry(ModelRegistry.DefaultDirectory(_dir));
        var merged = registry.Get(root.GetProperty("merged_model").GetString()!);
        Assert.NotNull(merged);
        Assert.Equal([best.Trainer.ToString()], merged.Contributors);
        Assert.Equal((ulong?)taskId, merged.TaskId);
    }

    [Fact]
    public async Task A_federated_task_or_an_unsettled_window_is_refused_naming_the_option()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = TransformerConfig.Tiny;
        var registryFolder = Path.Combine(_dir, "coordinator-models");
        string baseHash;
        using (var registry = new ModelRegistry(registryFolder))
        {
            baseHash = registry.Put(config.Layout().ToSafeTensors(config.InitialParameters(9)), new ModelRegistration("transformer-tiny", config, ModelKind.Base)).Entry!.Hash;
        }
        var key = LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("merge-winner-coordinator")));
        var genesis = new Genesis(95, LedgerParams.Default, [new GenesisAllocation(key.Address, Tokens.Whole(1_000))], 0);
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "coordinator"), ModelRegistry = registryFolder },
            key, genesis, NullLoggerFactory.Instance, ct);
        var federated = await host.HostTaskAsync(Spec(baseHash, "\"strategy\": { \"name\": \"fedavg\" },"), 1, ct);
        var tournament = await host.HostTaskAsync(Spec(baseHash, Tournament).Replace("\"trainers_per_round\": 2,", "", StringComparison.Ordinal), 1, ct);
        var api = host.ApiUri.ToString();

        var (code, _, err) = await CliRun.Run("model", "merge-winner", "--coordinator", api, "--task", $"{federated}", "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"--task: task {federated} is not a tournament", err, StringComparison.Ordinal);

        (code, _, err) = await CliRun.Run("model", "merge-winner", "--coordinator", api, "--task", $"{tournament}", "--window", "1", "--data-dir", _dir);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"--window: task {tournament} has settled windows 1 to 0, not 1", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ModelRegistry.DefaultDirectory(_dir)) && Directory.EnumerateFiles(ModelRegistry.DefaultDirectory(_dir), "*.safetensors", SearchOption.AllDirectories).Any(),
            "nothing was registered");
    }
}
