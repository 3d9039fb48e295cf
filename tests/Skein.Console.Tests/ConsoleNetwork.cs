using System.Runtime.Versioning;
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
using Skein.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Skein.Market.Provider;
using Skein.Market.Runtime;
using Skein.Market.Templates;

namespace Skein.Console.Tests;

/// <summary>
/// A small network on loopback, driven through its HTTP APIs as separate processes would: a coordinator (its ledger
/// with fast market blocks, its JSON API serving the market too), one task on the ledger, providers with the process
/// runtime where the Skein image is a shell script that prints a line and sleeps, and consoles over it all.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ConsoleNetwork : IAsyncLifetime
{
    public const ulong ChainId = 4_712;

    private readonly List<(ProviderHost Host, ProviderStore Store, ProcessRuntime Runtime, string State)> _providers = [];
    private readonly List<ConsoleHost> _consoles = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("skein-console-").FullName;

    public CoordinatorHost Coordinator { get; private set; } = null!;

    public MarketApiClient Market { get; private set; } = null!;

    public ProviderClient ProviderClient { get; private set; } = null!;

    public MarketParams Rules { get; } = MarketParams.Default with { BlockIntervalMs = 200, MinDeposit = Tokens.One / 10, BidDeposit = Tokens.One / 10 };

    public ulong TaskId { get; private set; }

    public IReadOnlyList<ProviderHost> Providers => [.. _providers.Select(p => p.Host)];

    /// <summary>What the Skein image runs here: no node, a line naming its role and task, then sleep (the test plays the node itself).</summary>
    public static ImageCatalog Images { get; } = new ImageCatalog()
        .Add("ghcr.io/skein-ai/skein:0.1", new ResolvedImage(["/bin/sh", "-c", "echo \"node up as $SKEIN_ROLE for task $SKEIN_TASK\"; exec sleep 600"], []));

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("console-test-" + name)));

    public async ValueTask InitializeAsync()
    {
        string[] accounts = ["console", "tenant", "cheap", "dear", "auditor", "creator"];
        var genesis = new Genesis(ChainId, LedgerParams.Default with { Market = Rules },
            accounts.Select(a => new GenesisAllocation(Key(a).Address, Tokens.Whole(1_000))).ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(Directory, "coordinator") }, Key("coordinator"), genesis,
            NullLoggerFactory.Instance);
        Market = await MarketApiClient.ConnectAsync(Coordinator.ApiUri);
        ProviderClient = new ProviderClient(_http, ChainId);

        using (var creator = new MarketSigner(Market, Key("creator")))
        {
            await creator.SendAsync((f, n) => new CreateTask
            {
                From = f,
                Nonce = n,
                SpecHash = new Hash32(SHA256.HashData("console-test-task"u8)),
                RewardPool = Tokens.Whole(10),
                Rounds = 3,
                MinStake = Tokens.Whole(5),
                TrainersPerRound = 1,
                ValidatorsPerRound = 1,
                RejectBelow = 100_000,
            });
        }
        TaskId = (await Coordinator.Context.Ledger.ListTasksAsync()).Single().Id;

        await StartProviderAsync("cheap", 600, new Dictionary<string, string> { ["region"] = "eu", ["tier"] = "audited" });
        await StartProviderAsync("dear", 900, new Dictionary<string, string> { ["region"] = "us" });
        using var auditor = new MarketSigner(Market, Key("auditor"));
        await auditor.SendAsync((f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = Key("cheap").Address, Attributes = """{"tier":"audited"}""" });
        if (!await EventuallyAsync(async () => (await Market.ListProvidersAsync()).Count == 2))
        {
            throw new InvalidOperationException("the providers did not register");
        }
    }

    private async Task StartProviderAsync(string name, decimal cpuPrice, IReadOnlyDictionary<string, string> attributes)
    {
        var state = Path.Combine(Directory, "providers", name);
        var store = new ProviderStore(state);
        var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = Path.Combine(state, "runtime"), UseCgroups = false }, Images);
        var options = new ProviderOptions
        {
            StateDirectory = state,
            Attributes = attributes,
            Capacity = new ProviderCapacity(8_000, 32UL << 30, 200UL << 30, []),
            PollInterval = TimeSpan.FromMilliseconds(100),
            WithdrawInterval = TimeSpan.FromHours(1),
            StopGrace = TimeSpan.FromSeconds(1),
        };
        var agent = new ProviderAgent(Market, Key(name), options, new ScalePricing(cpuPrice, 0, 0, new Dictionary<string, decimal>(), 0), runtime, store, NullLogger.Instance);
        _providers.Add((await ProviderHost.StartAsync(agent, NullLoggerFactory.Instance), store, runtime, state));
    }

    /// <summary>A console over this network: acting with <paramref name="key"/> unless read-only; it stops with the network.</summary>
    public async Task<ConsoleHost> StartConsoleAsync(LedgerKey? key, bool readOnly = false)
    {
        var console = await ConsoleHost.StartAsync(new ConsoleOptions
        {
            Coordinator = Coordinator.ApiUri,
            TemplatesRoot = TemplateRenderer.FindTemplatesRoot(AppContext.BaseDirectory) ?? throw new InvalidOperationException("no templates/ above the test's folder"),
            Poll = TimeSpan.FromMilliseconds(100),
            VerifyRounds = false,
            ReadOnly = readOnly,
            NodeKeyStrength = KdfStrength.Light,
        }, key, NullLoggerFactory.Instance);
        _consoles.Add(console);
        return console;
    }

    /// <summary>
    /// The node's key and password as the provider received them in the manifest (its workload's spec, owner-only on
    /// the provider's disk): what a real node reads from its env to stake and join.
    /// </summary>
    public LedgerKey NodeKeyFromProvider(Address node)
    {
        foreach (var (_, _, _, state) in _providers)
        {
            var workloads = Path.Combine(state, "runtime", "workloads");
            if (!System.IO.Directory.Exists(workloads))
            {
                continue;
            }
            foreach (var spec in System.IO.Directory.EnumerateFiles(workloads, "spec.json", SearchOption.AllDirectories))
            {
                using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(spec));
                var env = json.RootElement.GetProperty("Env");
                var keyJson = env.GetProperty("SKEIN_KEY_JSON").GetString()!;
                if (KeyFile.ReadAddress(keyJson) == node)
                {
                    return KeyFile.Decrypt(keyJson, env.GetProperty("SKEIN_KEY_PASSWORD").GetString()!);
                }
            }
        }
        throw new InvalidOperationException($"no provider runs a workload with the key of {node}");
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="seconds"/> pass; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var console in _consoles)
        {
            await console.DisposeAsync();
        }
        foreach (var (host, store, runtime, _) in _providers)
        {
            await host.DisposeAsync();
            host.Agent.Dispose();
            runtime.Dispose();
            store.Dispose();
        }
        // Workloads outlive their provider by design: a runtime on each provider's folder removes what is left.
        foreach (var (_, _, _, state) in _providers)
        {
            using var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = Path.Combine(state, "runtime"), UseCgroups = false }, Images);
            foreach (var w in await runtime.ListAsync(CancellationToken.None))
            {
                await runtime.RemoveAsync(w.Id, CancellationToken.None);
            }
        }
        Market?.Dispose();
        _http.Dispose();
        if (Coordinator is not null)
        {
            await Coordinator.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 10)
            {
                await Task.Delay(100);
            }
        }
    }
}
