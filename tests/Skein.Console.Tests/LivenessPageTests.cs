using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Console.Tests;

/// <summary>The console shows a round's deadline, a task's new coordinator after a handover, and a cancelled task with its refund.</summary>
public sealed class LivenessPageTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-live-").FullName;
    private CoordinatorHost? _coordinator;
    private ConsoleHost? _console;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("console-live-" + name)));

    private async Task SendAsync(string who, Func<Address, ulong, Transaction> build)
    {
        var ledger = _coordinator!.Context.Ledger;
        var key = Key(who);
        var tx = build(key.Address, await ledger.GetNonceAsync(key.Address, Ct));
        await ledger.SubmitAsync(key.SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId }, Ct);
    }

    [Fact]
    public async Task A_round_shows_its_deadline_a_handed_over_task_its_coordinator_and_a_cancelled_task_its_refund()
    {
        // 100 ms market blocks: a task without progress for 20 of them (2 s) may be cancelled.
        var parameters = LedgerParams.Default with { Market = MarketParams.Default with { BlockIntervalMs = 100 }, Liveness = new LivenessParams(10, 10, 10, 20) };
        string[] names = ["coordinator", "t1", "v1", "successor", "outsider"];
        var genesis = new Genesis(95, parameters, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        _coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "coordinator") }, Key("coordinator"), genesis, NullLoggerFactory.Instance, Ct);
        var task = await _coordinator.HostTaskAsync("""
            { "name": "console-liveness", "model": "logreg", "rounds": 2, "trainers_per_round": 1, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "40", "min_stake": "10", "reject_below": 0.2 }
            """, 1, Ct);
        foreach (var (name, role) in new[] { ("t1", Role.Trainer), ("v1", Role.Validator) })
        {
            await SendAsync(name, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(20) });
            await SendAsync(name, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = task, Role = role });
        }
        var initial = Hash32.Parse(_coordinator.Context.Index.Task(task)!.InitialModel);
        await SendAsync("coordinator", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = task, Round = 1, ModelHash = initial });
        await SendAsync("coordinator", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = task, Coordinator = Key("successor").Address });
        var deadline = (await _coordinator.Context.Ledger.GetRoundAsync(task, 1, Ct))!.Deadline;

        _console = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = _coordinator.ApiUri, Poll = TimeSpan.FromMilliseconds(200) }, null, NullLoggerFactory.Instance, Ct);
        using var browser = new ConsoleBrowser(_console.Uri);
        var round = await browser.PageAsync($"tasks/{task}/rounds/1");
        Assert.Contains($"<dd id=\"round-deadline\"", round, StringComparison.Ordinal);
        Assert.Contains($"block {deadline}", round, StringComparison.Ordinal);
        var page = await browser.PageAsync($"tasks/{task}");
        Assert.Contains("id=\"task-coordinator\"", page, StringComparison.Ordinal);
        Assert.Contains("(handed over)", page, StringComparison.Ordinal);
        Assert.Contains("anyone may cancel it", page, StringComparison.Ordinal);

        // Past the abandonment period an outsider cancels: the page says so, with the refund.
        var abandon = (await _coordinator.Context.Ledger.GetTaskAsync(task, Ct))!.AbandonHeight;
        for (var i = 0; i < 100 && (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 100 <= abandon; i++)
        {
            await Task.Delay(100, Ct);
        }
        await SendAsync("outsider", (f, n) => new CancelTask { From = f, Nonce = n, TaskId = task });
        // The console reads the network every 200 ms (Poll): a few bounded looks.
        for (var i = 0; i < 50 && !page.Contains("<dd id=\"task-state\">cancelled</dd>", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, Ct);
            page = await browser.PageAsync($"tasks/{task}");
        }
        Assert.Contains("<dd id=\"task-state\">cancelled</dd>", page, StringComparison.Ordinal);
        var note = page[page.IndexOf("id=\"task-liveness\"", StringComparison.Ordinal)..];
        Assert.Contains("40 SKN went back to its creator", note[..note.IndexOf("</p>", StringComparison.Ordinal)], StringComparison.Ordinal);
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
