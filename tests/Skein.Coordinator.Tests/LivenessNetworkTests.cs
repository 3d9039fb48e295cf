using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Coordinator.Rounds;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;
using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A round settled by a member after its deadline, with its aggregate computed from published blobs, is the round the coordinator would have settled.</summary>
public sealed class LivenessNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-liveness-net-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("live-" + name)));

    private const string Spec = """
        { "name": "live", "model": "logreg", "rounds": 2, "trainers_per_round": 2, "validators_per_round": 2,
          "strategy": { "name": "fedavgm", "params": { "momentum": 0.9 } },
          "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "100", "min_stake": "10", "reject_below": 0.2 }
        """;

    private List<Task> StartNodes(CoordinatorHost host, CancellationToken stop)
    {
        var nodes = new List<Task>();
        foreach (var (name, i) in new[] { ("t1", 0), ("t2", 1), ("v1", 2), ("lazy", 3) })
        {
            var data = Path.Combine(_dir, name);
            var trainer = name.StartsWith('t');
            SyntheticImages.WriteIdxFiles(data, trainer ? "train" : "heldout", trainer ? 200 : 300, (ulong)(10 + i));
            nodes.Add(new NodeDaemon(new NodeOptions
            {
                Coordinator = host.Uri,
                DataDirectory = data,
                StateDirectory = Path.Combine(data, "state"),
                TrainerStake = trainer ? Tokens.Whole(20) : 0,
                ValidatorStake = trainer ? 0 : Tokens.Whole(50),
                Behaviour = name == "lazy" ? NodeBehaviour.NeverReveal : NodeBehaviour.Honest,
            }, Key(name), NullLogger.Instance).RunAsync(stop));
        }
        return nodes;
    }

    [Fact]
    public async Task A_round_a_validator_settles_after_the_deadline_from_published_blobs_verifies_and_the_coordinator_carries_on_from_it()
    {
        var ct = TestContext.Current.CancellationToken;
        // 100 ms market blocks; the reveal phase may last 20 of them on the ledger, but the coordinator waits 10 minutes for "lazy".
        var parameters = LedgerParams.Default with { Market = MarketParams.Default with { BlockIntervalMs = 100 }, Liveness = new LivenessParams(600, 600, 20, 2_000) };
        var genesis = new Genesis(78, parameters, new[] { "coordinator", "t1", "t2", "v1", "lazy" }.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            Timings = new RoundTimings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(10)),
        };
        ulong taskId;
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
            taskId = await host.HostTaskAsync(Spec, seed: 3, ct);
            var nodes = StartNodes(host, stop.Token);
            await NetworkNodes.WaitJoinedAsync(host, taskId, 2, 2);
            host.StartEngine(taskId);
            // Round 1 waits in its reveal phase for the validator that never reveals; then the coordinator goes away.
            for (var i = 0; i < 1_200; i++)
            {
                var r = await host.Context.Ledger.GetRoundAsync(taskId, 1, ct);
                if (r is { Phase: RoundPhase.Revealing, Revealed.Count: 1 })
                {
                    break;
                }
                await Task.Delay(100, ct);
            }
            Assert.Equal(RoundPhase.Revealing, (await host.Context.Ledger.GetRoundAsync(taskId, 1, ct))!.Phase);
            await stop.CancelAsync();
            await Task.WhenAll(nodes).WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        var chain = Path.Combine(options.DataDirectory, "ledger.db");
        await using (var ledger = await EmbeddedLedger.OpenAsync(chain, cancellationToken: ct))
        {
            var round = (await ledger.GetRoundAsync(taskId, 1, ct))!;
            for (var i = 0; i < 600 && (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 100 <= round.Deadline; i++)
            {
                await Task.Delay(100, ct);
            }
            // v1 settles the round from the coordinator's published blobs, computing its aggregate as the coordinator would.
            var blobs = Path.Combine(options.DataDirectory, "blobs");
            RoundAggregation.BlobReader read = async (hash, token) => await CoordinatorContext.FromFolderAsync(blobs, hash, token) ?? throw new FileNotFoundException(hash);
            var closing = await RoundCloser.NextAsync(ledger, taskId, Key("v1").Address, TaskSpec.Parse(Spec), read, ledger.Params.Incentives, ct);
            var finalize = Assert.IsType<FinalizeRound>(closing.Transaction);
            Assert.Equal(2, closing.Model!.Accepted);
            Assert.NotNull(closing.Model.Bytes);
            // Without the spec and the blobs, a round that accepted updates cannot be settled: nothing else to record.
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => RoundCloser.NextAsync(ledger, taskId, Key("v1").Address, null, null, ledger.Params.Incentives, ct));
            Assert.Contains("needs the task's spec (--spec)", refused.Message, StringComparison.Ordinal);
            await ledger.SubmitAsync(Key("v1").SignTransaction(finalize, ledger.ChainId) with { ChainId = ledger.ChainId }, ct);
            round = (await ledger.GetRoundAsync(taskId, 1, ct))!;
            Assert.Equal(RoundPhase.Settled, round.Phase);
            Assert.Equal(finalize.NewModelHash, round.NewModelHash);
            Assert.All(round.Outcomes, o => Assert.True(o.Accepted));
            Assert.Contains(round.Movements, m => m.Account == Key("lazy").Address && m.Kind == "validator slash");
        }

        // The coordinator comes back: it recomputes the model it never saw (nobody published it), runs round 2, and both rounds verify.
        await using (var again = await CoordinatorHost.StartAsync(options with { Timings = new RoundTimings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5)) }, Key("coordinator"), null, NullLoggerFactory.Instance, ct))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var nodes = StartNodes(again, stop.Token);
            await again.Engines[0].WaitAsync(TimeSpan.FromSeconds(120), ct);
            await stop.CancelAsync();
            Assert.True((await again.Context.Ledger.GetTaskAsync(taskId, ct))!.Completed);
            using var api = new Api.CoordinatorApiClient(again.ApiUri);
            for (uint r = 1; r <= 2; r++)
            {
                var check = await Api.RoundVerifier.VerifyAsync(api, taskId, r, ct);
                Assert.True(check.Ok, $"round {r}: {check.Reason}");
                Assert.Equal(2, check.Accepted);
            }
            await Task.WhenAll(nodes).WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }
    }
}
