using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Learning.Registry;
using Skein.Ledger;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Node;
using static Skein.Coordinator.Tests.NetworkNodes;

namespace Skein.Coordinator.Tests;

/// <summary>A tournament task over gRPC: trainers fine-tune on their own (one twice, one copying), validators score and catch the copy, the ledger pays by rank, verify recomputes it.</summary>
public sealed class TournamentNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-tour-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Spec(string baseHash, int windows = 1) => $$"""
        {
          "name": "tournament-net", "mode": "tournament",
          "tournament": { "submissions_per_trainer": 2, "decay": 0.5, "side_floor": 0.2, "copy_threshold": 0.99 },
          "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "rank": 8, "alpha": 32, "mode": "exact" } },
          "data": { "dataset": "text" }, "strategy": { "name": "fedavg" },
          "training": { "batch_size": 16, "lr": 0.05, "steps": 30 }, "validation": { "score": "bpc" },
          "rounds": {{windows}}, "validators_per_round": 2, "reward_pool": "20", "min_stake": "10", "reject_below": 0.25
        }
        """;

    [Fact]
    public async Task A_window_ranks_independent_adapters_slashes_the_copier_and_verifies()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "models");
        var baseHash = RegisteredBase(registryFolder);
        var trainers = new[] { "t1", "t2", "copier" };
        var validators = new[] { "v1", "v2" };
        var genesis = GenesisFor(80, ["coordinator", .. trainers, .. validators]);
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Timings = new RoundTimings(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)) { TournamentQuiet = TimeSpan.FromSeconds(2) },
            ModelRegistry = registryFolder,
        };
        await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var taskId = await host.HostTaskAsync(Spec(baseHash, windows: 2), seed: 1, ct);
        var task = (await host.Context.Ledger.GetTaskAsync(taskId, ct))!;
        Assert.Equal(new TournamentRules(2, 5_000, 2_000), task.Tournament);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var nodes = new List<Task>();
        // t1 enters twice (a strong and a weak setting), t2 once with fewer steps, the copier takes whoever submits first.
        TournamentTry[][] tries = [[new(30, 0.05), new(5, 0.005)], [new(15, 0.03)], []];
        for (var i = 0; i < trainers.Length; i++)
        {
            var (behaviour, own) = (trainers[i] == "copier" ? NodeBehaviour.Copy : NodeBehaviour.Honest, tries[i]);
            nodes.Add(await RunTrainerAsync(host, _dir, trainers[i], Text(i, 12_000), o => o with { Behaviour = behaviour, Tries = own }, stop.Token));
        }
        for (var i = 0; i < validators.Length; i++)
        {
            nodes.Add(await RunValidatorAsync(host, _dir, validators[i], "held.txt", Text(i + 1, 2_500), stop.Token));
        }
        await WaitJoinedAsync(host, taskId, trainers.Length, validators.Length);
        host.StartEngine(taskId);
        await host.Engines[0].WaitAsync(TimeSpan.FromSeconds(240), ct);
        await stop.CancelAsync();

        var ledger = host.Context.Ledger;
        Assert.True((await ledger.GetTaskAsync(taskId, ct))!.Completed);
        using var api = new Api.CoordinatorApiClient(host.ApiUri);
        var copier = Key("copier").Address;
        var first = (await ledger.GetRoundAsync(taskId, 1, ct))!;
        for (uint w = 1; w <= 2; w++)
        {
            var window = (await ledger.GetRoundAsync(taskId, w, ct))!;
            Assert.True(window.Updates.Count == 4, $"window {w}: expected 4 submissions (t1 twice, t2, the copier), got: {string.Join(", ", window.Updates.Select(u => u.Trainer))}");
            Assert.Equal(2, window.Updates.Count(u => u.Trainer == Key("t1").Address));
            // Every window starts from the same adapter; the copier takes a submission of this window in window 1 and
            // window 1's winner in window 2, and the validators catch both (the second by comparing with window 1).
            Assert.Equal(first.ModelHash, window.ModelHash);
            var copied = window.Outcomes.Single(o => o.Trainer == copier);
            Assert.Equal(0UL, copied.ConsensusScore);
            Assert.False(copied.Accepted);
            Assert.Contains(window.Movements, m => m.Account == copier && m.Kind == "trainer slash");
            // Only t1's better submission ranks; ranked submissions are paid in the order of their consensus.
            var ranked = window.Outcomes.Where(o => o.Accepted).OrderByDescending(o => o.ConsensusScore).ToArray();
            Assert.Single(ranked, o => o.Trainer == Key("t1").Address);
            Assert.All(ranked, o => Assert.True(o.ConsensusScore > TournamentLimits.NeutralScore));
            for (var i = 1; i < ranked.Length; i++)
            {
                Assert.True(ranked[i - 1].Reward >= ranked[i].Reward);
            }
            Assert.NotEqual(window.ModelHash, window.NewModelHash);
            Assert.NotEmpty(window.SettledTrainerStakes);
            var check = await Api.RoundVerifier.VerifyAsync(api, taskId, w, ct);
            Assert.True(check.Ok, check.Reason);
            Assert.Equal(ranked.Length, check.Accepted);
        }
        // Window 2's copy is not byte for byte window 1's winner (the ledger would catch that itself): the validators did.
        var second = (await ledger.GetRoundAsync(taskId, 2, ct))!;
        var copy = second.Updates.Single(u => u.Trainer == copier).UpdateHash;
        Assert.DoesNotContain(first.Updates, u => u.UpdateHash == copy);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_coordinator_stopped_mid_window_restarts_and_settles_it_with_every_submission_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "models");
        var baseHash = RegisteredBase(registryFolder);
        string[] trainers = ["t1", "slow"];
        string[] validators = ["v1", "v2"];
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Port = FreePort(),
            ApiPort = FreePort(),
            Timings = new RoundTimings(TimeSpan.FromSeconds(150), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)) { TournamentQuiet = TimeSpan.FromSeconds(2) },
            ModelRegistry = registryFolder,
        };
        var genesis = GenesisFor(82, ["coordinator", .. trainers, .. validators]);
        var first = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var taskId = await first.HostTaskAsync(Spec(baseHash), seed: 1, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The slow trainer takes many more steps, so the window is still open when t1 has submitted.
        TournamentTry[][] tries = [[new(10, 0.05)], [new(400, 0.02)]];
        var nodes = new List<Task>();
        for (var i = 0; i < trainers.Length; i++)
        {
            var own = tries[i];
            nodes.Add(await RunTrainerAsync(first, _dir, trainers[i], Text(i, 12_000), o => o with { Tries = own }, stop.Token));
        }
        for (var i = 0; i < validators.Length; i++)
        {
            nodes.Add(await RunValidatorAsync(first, _dir, validators[i], "held.txt", Text(i + 1, 2_500), stop.Token));
        }
        await WaitJoinedAsync(first, taskId, trainers.Length, validators.Length);
        first.StartEngine(taskId);
        for (var i = 0; i < 1_200 && ((await first.Context.Ledger.GetRoundAsync(taskId, 1, ct))?.Updates.Count ?? 0) < 1; i++)
        {
            await Task.Delay(100, ct);
        }
        var window = (await first.Context.Ledger.GetRoundAsync(taskId, 1, ct))!;
        Assert.True(window.Updates.Count == 1 && window.Phase == RoundPhase.Training, $"{window.Updates.Count} submissions, {window.Phase}, when the coordinator was to stop");
        var kept = window.Updates[0].UpdateHash;
        await first.DisposeAsync();

        // The same folder and ports: the nodes reconnect, the slow trainer submits, and the window settles.
        await using var second = await CoordinatorHost.StartAsync(options, Key("coordinator"), null, NullLoggerFactory.Instance, ct);
        second.StartEngine(taskId);
        await second.Engines[0].WaitAsync(TimeSpan.FromSeconds(240), ct);
        await stop.CancelAsync();

        var settled = (await second.Context.Ledger.GetRoundAsync(taskId, 1, ct))!;
        Assert.Equal(RoundPhase.Settled, settled.Phase);
        Assert.Equal(kept, settled.Updates[0].UpdateHash);
        Assert.Equal(["t1", "slow"], settled.Updates.Select(u => trainers.Single(t => Key(t).Address == u.Trainer)));
        Assert.All(settled.Outcomes, o => Assert.True(o.ConsensusScore > 0, $"consensus {o.ConsensusScore}"));
        using var api = new Api.CoordinatorApiClient(second.ApiUri);
        var check = await Api.RoundVerifier.VerifyAsync(api, taskId, 1, ct);
        Assert.True(check.Ok, check.Reason);
    }

    [Fact]
    public async Task A_submission_that_is_not_an_adapter_of_the_tasks_shapes_is_refused_and_stored_nowhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "models");
        string baseHash;
        using (var registry = new ModelRegistry(registryFolder))
        {
            var config = Learning.Language.TransformerConfig.Tiny;
            baseHash = registry.Put(config.Layout().ToSafeTensors(config.InitialParameters(9)), new ModelRegistration("transformer-tiny", config, ModelKind.Base)).Entry!.Hash;
        }
        string[] names = ["coordinator", "t1", "v1", "v2"];
        var genesis = GenesisFor(81, names);
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "c2"), ModelRegistry = registryFolder },
            Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var taskId = await host.HostTaskAsync(Spec(baseHash), 1, ct);
        foreach (var (name, role) in new[] { ("t1", Ledger.Transactions.Role.Trainer), ("v1", Ledger.Transactions.Role.Validator), ("v2", Ledger.Transactions.Role.Validator) })
        {
            using var c = new CoordinatorConnection(host.Uri, Key(name));
            await c.SignInAsync(ct);
            await c.SendAsync((f, n) => new Ledger.Transactions.Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(10) }, ct);
            await c.SendAsync((f, n) => new Ledger.Transactions.JoinTask { From = f, Nonce = n, TaskId = taskId, Role = role }, ct);
        }
        var nonce = await host.Context.Ledger.GetNonceAsync(Key("coordinator").Address, ct);
        var open = new Ledger.Transactions.OpenRound { From = Key("coordinator").Address, Nonce = nonce, TaskId = taskId, Round = 1, ModelHash = Hash32.Parse(host.Context.Index.Task(taskId)!.InitialModel) };
        await host.Context.Ledger.SubmitAsync(Key("coordinator").SignTransaction(open, host.Context.Ledger.ChainId) with { ChainId = host.Context.Ledger.ChainId }, ct);

        // A rank-4 adapter where the task's is rank 8: the base's shapes do not match.
        var other = TaskSpec.Parse(Spec(baseHash).Replace("\"rank\": 8", "\"rank\": 4", StringComparison.Ordinal));
        var bytes = Learning.Tasks.TaskModels.Layout(other).ToSafeTensors(new float[Learning.Tasks.TaskModels.Layout(other).TotalCount]);
        using var node = new CoordinatorConnection(host.Uri, Key("t1"));
        await node.SignInAsync(ct);
        var ex = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => node.UploadAsync(taskId, 1, bytes, ct));
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("does not match the model: tensor 'h.0.attn.c_attn.lora_A'", ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(host.Context.Blobs.Exists(Hashing.Sha256Hex(bytes)));
        Assert.Empty((await host.Context.Ledger.GetRoundAsync(taskId, 1, ct))!.Updates);
        using var api = new Api.CoordinatorApiClient(host.ApiUri);
        var open1 = await Api.RoundVerifier.VerifyAsync(api, taskId, 1, ct);
        Assert.False(open1.Ok);
        Assert.Equal("window 1 is training, not settled", open1.Reason);
    }
}
