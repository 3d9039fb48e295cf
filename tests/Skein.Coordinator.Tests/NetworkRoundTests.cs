using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Coordinator.Rounds;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Coordinator.Tests;

public sealed class NetworkRoundTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-net-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("net-" + name)));

    private static void WriteData(string folder, string prefix, int count, int seed) => SyntheticImages.WriteIdxFiles(folder, prefix, count, (ulong)seed);

    [Fact]
    public async Task Nodes_train_validate_and_get_paid_over_grpc_while_cheats_are_refused_and_slashed()
    {
        var ct = TestContext.Current.CancellationToken;
        var coordinatorKey = Key("coordinator");
        var trainers = new[] { "t1", "t2", "t3", "evil" };
        var validators = new[] { "v1", "v2", "lazy" };
        var genesis = new Genesis(77, LedgerParams.Default, new[] { "coordinator" }.Concat(trainers).Concat(validators)
            .Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Timings = new RoundTimings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(3)),
        };
        await using var host = await CoordinatorHost.StartAsync(options, coordinatorKey, genesis, NullLoggerFactory.Instance, ct);
        const string spec = """
            { "name": "net-test", "model": "logreg", "rounds": 2, "trainers_per_round": 4, "validators_per_round": 3,
              "strategy": { "name": "fedavgm", "params": { "momentum": 0.9 } },
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05, "lr_decay": 0.9 }, "reward_pool": "100", "min_stake": "10", "reject_below": 0.2 }
            """;
        var taskId = await host.HostTaskAsync(spec, seed: 1, ct);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var nodes = new List<Task>();
        for (var i = 0; i < trainers.Length; i++)
        {
            var data = Path.Combine(_dir, trainers[i]);
            WriteData(data, "train", 200, i);
            nodes.Add(new NodeDaemon(new NodeOptions
            {
                Coordinator = host.Uri,
                DataDirectory = data,
                StateDirectory = Path.Combine(data, "state"),
                TrainerStake = Tokens.Whole(20),
                Behaviour = trainers[i] == "evil" ? NodeBehaviour.SignFlip : NodeBehaviour.Honest,
            }, Key(trainers[i]), NullLogger.Instance).RunAsync(stop.Token));
        }
        for (var i = 0; i < validators.Length; i++)
        {
            var data = Path.Combine(_dir, validators[i]);
            WriteData(data, "heldout", 300, 100 + i);
            nodes.Add(new NodeDaemon(new NodeOptions
            {
                Coordinator = host.Uri,
                DataDirectory = data,
                StateDirectory = Path.Combine(data, "state"),
                ValidatorStake = Tokens.Whole(50),
                Behaviour = validators[i] == "lazy" ? NodeBehaviour.NeverReveal : NodeBehaviour.Honest,
            }, Key(validators[i]), NullLogger.Instance).RunAsync(stop.Token));
        }

        // Start the rounds once everyone has joined (bounded wait).
        for (var i = 0; i < 300; i++)
        {
            var t = await host.Context.Ledger.GetTaskAsync(taskId, ct);
            if (t!.Trainers.Count == 4 && t.Validators.Count == 3)
            {
                break;
            }
            await Task.Delay(100, ct);
        }
        host.StartEngine(taskId);
        await host.Engines[0].WaitAsync(TimeSpan.FromSeconds(150), ct);
        await stop.CancelAsync();

        var ledger = host.Context.Ledger;
        var task = (await ledger.GetTaskAsync(taskId, ct))!;
        Assert.True(task.Completed);
        for (uint r = 1; r <= 2; r++)
        {
            var round = (await ledger.GetRoundAsync(taskId, r, ct))!;
            Assert.Equal(4, round.Updates.Count);
            var evil = round.Outcomes.Single(o => o.Trainer == Key("evil").Address);
            Assert.False(evil.Accepted, $"round {r}: the sign-flipped update scored {evil.ConsensusScore} ppm and was accepted");
            Assert.All(round.Outcomes.Where(o => o.Trainer != Key("evil").Address), o => Assert.True(o.Accepted, $"round {r}: consensus {o.ConsensusScore}"));
            Assert.Contains(round.Movements, m => m.Account == Key("evil").Address && m.Kind == "trainer slash");
            Assert.Contains(round.Movements, m => m.Account == Key("lazy").Address && m.Kind == "validator slash");
            Assert.Contains(round.Movements, m => m.Account == Key("v1").Address && m.Kind == "validator reward");
            Assert.Contains(round.Movements, m => m.Account == Key("t1").Address && m.Kind == "trainer reward");

            // Anyone can recompute the aggregate from the previous model and the accepted updates.
            var accepted = round.Updates.Where((u, i) => round.Outcomes[i].Accepted).ToArray();
            var recomputed = await RoundAggregation.ComputeAsync(host.Context.Blobs.ReadAllAsync, TaskSpec.Parse(spec), round, accepted, r > 1 ? (await host.Context.Ledger.GetRoundAsync(taskId, r - 1, ct))!.ModelHash : null, ct);
            Assert.Equal(round.NewModelHash.ToString()[2..], Hashing.Sha256Hex(recomputed));
        }
        Assert.True((await EmbeddedLedgerVerify(host)).Ok);

        // The same, as an outsider: over the JSON API, with every blob checked against its hash.
        using var api = new Skein.Coordinator.Api.CoordinatorApiClient(host.ApiUri);
        for (uint r = 1; r <= 2; r++)
        {
            var check = await Skein.Coordinator.Api.RoundVerifier.VerifyAsync(api, taskId, r, ct);
            Assert.True(check.Ok, check.Reason);
            Assert.Equal(3, check.Accepted);
        }
        var board = await api.GetLeaderboardAsync(taskId, ct);
        var evilRow = board.Single(e => e.Address == Key("evil").Address.ToString() && e.Role == "trainer");
        Assert.Equal((0, 2, "0"), (evilRow.Accepted, evilRow.Rejected, evilRow.Rewards));
        Assert.NotEqual("0", evilRow.Slashed);
        var lazyRow = board.Single(e => e.Address == Key("lazy").Address.ToString() && e.Role == "validator");
        Assert.Equal((0, 2, "0"), (lazyRow.Revealed, lazyRow.Missed, lazyRow.Rewards));
        var t1Row = board.Single(e => e.Address == Key("t1").Address.ToString());
        Assert.Equal((2, 0, "0"), (t1Row.Accepted, t1Row.Rejected, t1Row.Slashed));
        var missing = await Assert.ThrowsAsync<HttpRequestException>(() => api.GetRoundAsync(taskId, 99, ct));
        Assert.Contains("has no round 99", missing.Message, StringComparison.Ordinal);
        Assert.Contains("task 42 does not exist", (await Assert.ThrowsAsync<HttpRequestException>(() => api.GetTaskAsync(42, ct))).Message, StringComparison.Ordinal);
        Assert.Contains("sha256: must be 64 lowercase hex digits", (await Assert.ThrowsAsync<HttpRequestException>(() => api.GetBlobAsync("ledger.db", ct))).Message, StringComparison.Ordinal);
        Assert.Contains("is not stored here", (await Assert.ThrowsAsync<HttpRequestException>(() => api.GetBlobAsync(new string('0', 64), ct))).Message, StringComparison.Ordinal);
    }

    private static Task<Skein.Ledger.Storage.VerifyReport> EmbeddedLedgerVerify(CoordinatorHost host) =>
        Skein.Ledger.Storage.EmbeddedLedger.VerifyAsync(((Skein.Ledger.Storage.EmbeddedLedger)host.Context.Ledger).Path, TestContext.Current.CancellationToken);
}
