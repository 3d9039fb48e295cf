using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Coordinator.Rounds;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Learning.Tasks;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Skein.Node;

using static Skein.Coordinator.Tests.NetworkNodes;

namespace Skein.Coordinator.Tests;

/// <summary>A fine-tuning task over gRPC: nodes download the base by hash, train LoRA adapters on text, validators score bits per byte.</summary>
public sealed class FineTuningNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-ft-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Spec(string baseHash, string extra = "") => $$"""
        {
          "name": "ft-net", "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "rank": 8, "alpha": 32, "mode": "exact" } },
          "data": { "dataset": "text" }, "strategy": { "name": "fedavg" },
          "training": { "batch_size": 16, "lr": 0.05, "steps": 30 }, "validation": { "score": "bpc" },
          "rounds": 2, "trainers_per_round": 3, "validators_per_round": 2, "reward_pool": "20", "min_stake": "10", "reject_below": 0.5{{extra}}
        }
        """;

    [Fact]
    public async Task A_fine_tuning_task_trains_adapters_over_grpc_rejects_a_sign_flipped_one_and_verifies()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "models");
        var baseHash = RegisteredBase(registryFolder);
        var trainers = new[] { "t1", "t2", "evil" };
        var validators = new[] { "v1", "v2" };
        var genesis = GenesisFor(78, ["coordinator", .. trainers, .. validators]);
        var evalFolder = Directory.CreateDirectory(Path.Combine(_dir, "eval")).FullName;
        await File.WriteAllTextAsync(Path.Combine(evalFolder, "public.txt"), Text(2, 3_000), ct);
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Timings = new RoundTimings(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)),
            ModelRegistry = registryFolder,
            EvaluationData = evalFolder,
        };
        await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);

        // Refused before anything reaches the ledger: a base the registry lacks, an adapter over max_params.
        var missing = await Assert.ThrowsAsync<FormatException>(() => host.HostTaskAsync(Spec(new string('c', 64)), 1, ct));
        Assert.Contains($"model.base: {new string('c', 64)} is not in the model registry", missing.Message, StringComparison.Ordinal);
        var tooBig = await Assert.ThrowsAsync<FormatException>(() => host.HostTaskAsync(Spec(baseHash, ", \"max_params\": 100"), 1, ct));
        Assert.Contains("max_params: the adapter (rank 8, 4 target(s)) has 16,384 parameters, above max_params 100", tooBig.Message, StringComparison.Ordinal);
        Assert.Empty(await host.Context.Ledger.ListTasksAsync(ct));

        var spec = Spec(baseHash);
        var taskId = await host.HostTaskAsync(spec, seed: 1, ct);
        Assert.True(host.Context.Blobs.Exists(baseHash), "the base is published for nodes to download by hash");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var nodes = new List<Task>();
        for (var i = 0; i < trainers.Length; i++)
        {
            var behaviour = trainers[i] == "evil" ? NodeBehaviour.SignFlip : NodeBehaviour.Honest;
            nodes.Add(await RunTrainerAsync(host, _dir, trainers[i], Text(i, 12_000), o => o with { Behaviour = behaviour }, stop.Token));
        }
        for (var i = 0; i < validators.Length; i++)
        {
            // As JSON lines here, to read that format too.
            nodes.Add(await RunValidatorAsync(host, _dir, validators[i], "held.jsonl", $"{{\"text\": \"{Text(i + 1, 2_500).Replace("\n", "\\n", StringComparison.Ordinal)}\"}}\n", stop.Token));
        }
        await WaitJoinedAsync(host, taskId, trainers.Length, validators.Length);
        host.StartEngine(taskId);
        await host.Engines[0].WaitAsync(TimeSpan.FromSeconds(240), ct);
        await stop.CancelAsync();

        var ledger = host.Context.Ledger;
        Assert.True((await ledger.GetTaskAsync(taskId, ct))!.Completed);
        var parsed = TaskSpec.Parse(spec);
        var layout = TaskModels.Layout(parsed);
        for (uint r = 1; r <= 2; r++)
        {
            var round = (await ledger.GetRoundAsync(taskId, r, ct))!;
            Assert.Equal(3, round.Updates.Count);
            var evil = round.Outcomes.Single(o => o.Trainer == Key("evil").Address);
            Assert.False(evil.Accepted, $"round {r}: the sign-flipped adapter scored {evil.ConsensusScore} ppm and was accepted; honest: {string.Join(", ", round.Outcomes.Select(o => o.ConsensusScore))}");
            Assert.All(round.Outcomes.Where(o => o.Trainer != Key("evil").Address), o => Assert.True(o.Accepted, $"round {r}: consensus {o.ConsensusScore}"));
            Assert.Contains(round.Movements, m => m.Account == Key("evil").Address && m.Kind == "trainer slash");
            // Every stored update is an adapter-shaped delta that leaves the frozen A alone.
            foreach (var u in round.Updates)
            {
                var delta = layout.FromSafeTensors(SafeTensors.Parse(await host.Context.Blobs.ReadAllAsync(u.UpdateHash.ToString()[2..], ct)));
                Assert.Null(TaskModels.CheckFrozen(parsed, delta));
            }
        }
        using var api = new Skein.Coordinator.Api.CoordinatorApiClient(host.ApiUri);
        for (uint r = 1; r <= 2; r++)
        {
            var check = await Skein.Coordinator.Api.RoundVerifier.VerifyAsync(api, taskId, r, ct);
            Assert.True(check.Ok, check.Reason);
            Assert.Equal(2, check.Accepted);
        }
        // The coordinator's public curve for a fine-tuning task: bits per byte (as "loss") of base + each round's adapter.
        for (var i = 0; i < 200 && host.Context.Index.Metrics(taskId).Count < 2; i++)
        {
            await Task.Delay(100, ct);
        }
        var metrics = host.Context.Index.Metrics(taskId);
        Assert.Equal(2, metrics.Count);
        Assert.All(metrics.Values, m => Assert.InRange(m.Loss, 0.05, 8.5));
    }

    [Fact]
    public async Task An_update_that_moves_a_frozen_A_is_refused_and_stored_nowhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var registryFolder = Path.Combine(_dir, "models");
        string baseHash;
        using (var registry = new ModelRegistry(registryFolder))
        {
            var config = TransformerConfig.Tiny;
            var put = registry.Put(config.Layout().ToSafeTensors(config.InitialParameters(9)), new ModelRegistration("transformer-tiny", config, ModelKind.Base));
            baseHash = put.Entry!.Hash;
        }
        string[] names = ["coordinator", "t1", "t2", "t3", "v1", "v2"];
        var genesis = new Genesis(79, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "c2"), ModelRegistry = registryFolder },
            Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var taskId = await host.HostTaskAsync(Spec(baseHash), 1, ct);
        foreach (var (name, role) in new[] { ("t1", Role.Trainer), ("t2", Role.Trainer), ("t3", Role.Trainer), ("v1", Role.Validator), ("v2", Role.Validator) })
        {
            using var c = new CoordinatorConnection(host.Uri, Key(name));
            await c.SignInAsync(ct);
            await c.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(10) }, ct);
            await c.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = taskId, Role = role }, ct);
        }
        var nonce = await host.Context.Ledger.GetNonceAsync(Key("coordinator").Address, ct);
        var open = new OpenRound { From = Key("coordinator").Address, Nonce = nonce, TaskId = taskId, Round = 1, ModelHash = Hash32.Parse(host.Context.Index.Task(taskId)!.InitialModel) };
        await host.Context.Ledger.SubmitAsync(Key("coordinator").SignTransaction(open, host.Context.Ledger.ChainId) with { ChainId = host.Context.Ledger.ChainId }, ct);

        var layout = TaskModels.Layout(TaskSpec.Parse(Spec(baseHash)));
        var delta = new float[layout.TotalCount];
        delta[layout.OffsetOf(0)] = 0.01f;
        var bytes = layout.ToSafeTensors(delta);
        using var node = new CoordinatorConnection(host.Uri, Key("t1"));
        await node.SignInAsync(ct);
        var ex = await Assert.ThrowsAsync<RpcException>(() => node.UploadAsync(taskId, 1, bytes, ct));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("h.0.attn.c_attn.lora_A: must not change in exact mode", ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(host.Context.Blobs.Exists(Hashing.Sha256Hex(bytes)));
    }
}
