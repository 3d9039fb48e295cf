using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Console.Tests;

/// <summary>
/// A real training network for the browser tests: a coordinator that tests each model on a public set, four trainers (one
/// sends sign-flipped updates), three validators (one never reveals), two tasks (the first runs at once; the second
/// waits for <see cref="StartLiveTaskAsync"/> so a test can watch its curve grow), a console that acts with a funded
/// key, a read-only one, and a headless chromium.
/// </summary>
public sealed class TrainingNetwork : IAsyncLifetime
{
    public const string TaskSpecJson = """
        { "name": "browser-logreg", "model": "logreg", "rounds": 3, "trainers_per_round": 4, "validators_per_round": 3,
          "strategy": { "name": "fedavgm", "params": { "momentum": 0.9 } },
          "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "60", "min_stake": "10", "reject_below": 0.2 }
        """;

    public static readonly string[] Trainers = ["t1", "t2", "t3", "evil"];
    public static readonly string[] Validators = ["v1", "v2", "lazy"];

    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-browser-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _nodes = [];
    private IPlaywright? _playwright;
    private int _liveStarted;

    public CoordinatorHost Coordinator { get; private set; } = null!;

    public ConsoleHost Acting { get; private set; } = null!;

    public ConsoleHost ReadOnly { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Why there is no browser, when there is none (the tests skip with it).</summary>
    public string? NoBrowser { get; private set; }

    public ulong Task1 { get; private set; }

    public ulong LiveTask { get; private set; }

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("console-browser-" + name)));

    public static IReadOnlyDictionary<string, string> Labels { get; } =
        new[] { "coordinator", "user" }.Concat(Trainers).Concat(Validators).ToDictionary(n => Key(n).Address.ToString(), n => n == "evil" ? "evil (sign-flip)" : n);

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var names = new[] { "coordinator", "user" }.Concat(Trainers).Concat(Validators);
        var genesis = new Genesis(91, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(n == "coordinator" ? 10_000UL : 1_000UL))).ToArray(),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var eval = Path.Combine(_dir, "eval");
        SyntheticImages.WriteIdxFiles(eval, "eval", 400, 999);
        Coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            EvaluationData = eval,
            Timings = new RoundTimings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2)),
        }, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        Task1 = await Coordinator.HostTaskAsync(TaskSpecJson, seed: 1, ct);
        LiveTask = await Coordinator.HostTaskAsync(TaskSpecJson.Replace("browser-logreg", "browser-live", StringComparison.Ordinal), seed: 2, ct);

        for (var i = 0; i < Trainers.Length; i++)
        {
            var data = Path.Combine(_dir, Trainers[i]);
            SyntheticImages.WriteIdxFiles(data, "train", 200, (ulong)i);
            _nodes.Add(Node(Trainers[i], data, trainer: true));
        }
        for (var i = 0; i < Validators.Length; i++)
        {
            var data = Path.Combine(_dir, Validators[i]);
            SyntheticImages.WriteIdxFiles(data, "heldout", 300, 100 + (ulong)i);
            _nodes.Add(Node(Validators[i], data, trainer: false));
        }
        for (var i = 0; i < 600; i++)
        {
            var t = await Coordinator.Context.Ledger.GetTaskAsync(LiveTask, ct);
            if (t!.Trainers.Count == Trainers.Length && t.Validators.Count == Validators.Length)
            {
                break;
            }
            await Task.Delay(100, ct);
        }
        Coordinator.StartEngine(Task1);

        Acting = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = Coordinator.ApiUri, Labels = Labels, Poll = TimeSpan.FromMilliseconds(200) },
            Key("user"), NullLoggerFactory.Instance, ct);
        ReadOnly = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = Coordinator.ApiUri, Labels = Labels, ReadOnly = true, Poll = TimeSpan.FromMilliseconds(200) },
            Key("user"), NullLoggerFactory.Instance, ct);

        (_playwright, Browser, NoBrowser) = await BrowserSetup.LaunchAsync(ct);
    }

    private Task Node(string name, string data, bool trainer) => new NodeDaemon(new NodeOptions
    {
        Coordinator = Coordinator.Uri,
        DataDirectory = data,
        StateDirectory = Path.Combine(data, "state"),
        TrainerStake = trainer ? Tokens.Whole(20) : 0,
        ValidatorStake = trainer ? 0 : Tokens.Whole(50),
        Behaviour = name switch { "evil" => NodeBehaviour.SignFlip, "lazy" => NodeBehaviour.NeverReveal, _ => NodeBehaviour.Honest },
    }, Key(name), NullLogger.Instance).RunAsync(_stop.Token);

    /// <summary>Starts the second task's rounds (once): a test opens its page first and then watches it learn.</summary>
    public void StartLiveTaskAsync()
    {
        if (Interlocked.Exchange(ref _liveStarted, 1) == 0)
        {
            Coordinator.StartEngine(LiveTask);
        }
    }

    /// <summary>Waits (bounded) until the first task has settled every round.</summary>
    public async Task WaitTask1CompletedAsync(CancellationToken ct)
    {
        for (var i = 0; i < 1_800; i++)
        {
            if ((await Coordinator.Context.Ledger.GetTaskAsync(Task1, ct))!.Completed)
            {
                return;
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException("task 1 did not complete within 3 minutes");
    }

    /// <summary>A new page of a fresh browser context (own cookies), failing the test on any script error in it.</summary>
    public async Task<IPage> PageAsync()
    {
        var context = await Browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => Errors.Add(error);
        return page;
    }

    /// <summary>Script errors seen in any page.</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> Errors { get; } = [];

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await _stop.CancelAsync();
        foreach (var n in _nodes)
        {
            try
            {
                await n.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or Grpc.Core.RpcException)
            {
            }
        }
        await Acting.DisposeAsync();
        await ReadOnly.DisposeAsync();
        await Coordinator.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _stop.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
