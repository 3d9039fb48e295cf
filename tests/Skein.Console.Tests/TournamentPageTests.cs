using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Console.Tests;

/// <summary>A settled tournament window in the console: submissions with their ranks, ranked, unranked and rejected verdicts, payouts.</summary>
public sealed class TournamentPageTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-tour-").FullName;
    private CoordinatorHost? _coordinator;
    private ConsoleHost? _console;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("console-tour-" + name)));

    private static Hash32 H(string s) => new(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    private async Task SendAsync(string who, Func<Address, ulong, Transaction> build)
    {
        var ledger = _coordinator!.Context.Ledger;
        var key = Key(who);
        var tx = build(key.Address, await ledger.GetNonceAsync(key.Address, Ct));
        await ledger.SubmitAsync(key.SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId }, Ct);
    }

    [Fact]
    public async Task A_settled_window_shows_each_submission_ranked_unranked_or_rejected_with_its_rank()
    {
        var registryFolder = Path.Combine(_dir, "models");
        string baseHash;
        using (var registry = new ModelRegistry(registryFolder))
        {
            var config = TransformerConfig.Tiny;
            baseHash = registry.Put(config.Layout().ToSafeTensors(config.InitialParameters(9)), new ModelRegistration("transformer-tiny", config, ModelKind.Base)).Entry!.Hash;
        }
        string[] names = ["coordinator", "t1", "t2", "t3", "v1", "v2"];
        var genesis = new Genesis(94, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        _coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "coordinator"), ModelRegistry = registryFolder },
            Key("coordinator"), genesis, NullLoggerFactory.Instance, Ct);
        var spec = $$"""
            {
              "name": "console-tournament", "mode": "tournament",
              "tournament": { "submissions_per_trainer": 1, "decay": 0.5, "side_floor": 0.2, "copy_threshold": 0.99 },
              "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "rank": 4, "alpha": 8 } },
              "data": { "dataset": "text" }, "training": { "batch_size": 8, "lr": 0.01, "steps": 5 }, "validation": { "score": "bpc" },
              "rounds": 1, "validators_per_round": 2, "reward_pool": "10", "min_stake": "10", "reject_below": 0.25
            }
            """;
        var task = await _coordinator.HostTaskAsync(spec, 1, Ct);
        foreach (var (name, role) in new[] { ("t1", Role.Trainer), ("t2", Role.Trainer), ("t3", Role.Trainer), ("v1", Role.Validator), ("v2", Role.Validator) })
        {
            await SendAsync(name, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(20) });
            await SendAsync(name, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = task, Role = role });
        }
        var initial = Hash32.Parse(_coordinator.Context.Index.Task(task)!.InitialModel);
        await SendAsync("coordinator", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = task, Round = 1, ModelHash = initial });
        foreach (var t in new[] { "t1", "t2", "t3" })
        {
            await SendAsync(t, (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = task, Round = 1, UpdateHash = H(t), Samples = 100 });
        }
        await SendAsync("coordinator", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = task, Round = 1 });
        // t1 beats the base, t2 is no better than it (unranked, not slashed), t3 is voted down (a copy, say).
        ulong[] scores = [620_000, 480_000, 0];
        foreach (var v in new[] { "v1", "v2" })
        {
            await SendAsync(v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = task, Round = 1, Commitment = SignedTransaction.ScoreCommitment(task, 1, f, scores, H("salt" + v)) });
        }
        await SendAsync("coordinator", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = task, Round = 1 });
        foreach (var v in new[] { "v1", "v2" })
        {
            await SendAsync(v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = task, Round = 1, Scores = scores, Salt = H("salt" + v) });
        }
        await SendAsync("coordinator", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = task, Round = 1, NewModelHash = H("winner merged") });

        _console = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = _coordinator.ApiUri, Poll = TimeSpan.FromMilliseconds(200) }, null, NullLoggerFactory.Instance, Ct);
        using var browser = new ConsoleBrowser(_console.Uri);
        var html = await browser.PageAsync($"tasks/{task}/rounds/1");

        Assert.Contains("Window 1", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Submissions</h2>", html, StringComparison.Ordinal);
        Assert.Contains(">Rank</th>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge ok\">ranked</span>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge wait\">unranked</span>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge bad\">rejected</span>", html, StringComparison.Ordinal);
        Assert.Contains("ranked submission", html, StringComparison.Ordinal);
        Assert.Contains("trainer slash", html, StringComparison.Ordinal);

        var task1 = await browser.PageAsync($"tasks/{task}");
        Assert.Contains("Windows settled", task1, StringComparison.Ordinal);
        Assert.Contains("<h2 id=\"rounds-h\">Windows</h2>", task1, StringComparison.Ordinal);
        Assert.Contains(">Ranked</th>", task1, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_console is not null)
        {
            await _console.DisposeAsync();
        }
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
