using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Skein.Market.Provider;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Market;

/// <summary>
/// A local market in this process, driven through its HTTP API as separate processes would: an embedded ledger with
/// fast market blocks, the market API on loopback, and providers with their endpoints and the process runtime
/// (test images are shell scripts).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class MarketFixture : IAsyncDisposable
{
    public const ulong ChainId = 4_711;

    private readonly List<ProviderHost> _providers = [];
    private readonly Dictionary<ProviderHost, (ProviderStore Store, ProcessRuntime Runtime)> _owned = [];
    private readonly HashSet<string> _runtimeFolders = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private MarketApiHost? _api;
    private BlockProducer? _blocks;

    private MarketFixture(string dir) => Directory = dir;

    public string Directory { get; }

    public EmbeddedLedger Ledger { get; private set; } = null!;

    public MarketApiClient Market { get; private set; } = null!;

    public ProviderClient Providers { get; private set; } = null!;

    public MarketParams Rules { get; private set; } = null!;

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("market-fixture-" + name)));

    /// <summary>An image catalog where <c>test/sleeper</c> prints a line and sleeps, and <c>test/crasher</c> exits with 3.</summary>
    public static ImageCatalog Images { get; } = new ImageCatalog()
        .Add("test/sleeper:1", new ResolvedImage(["/bin/sh", "-c", "echo \"sleeper up as $SKEIN_SERVICE\"; exec sleep 600"], []))
        .Add("test/crasher:1", new ResolvedImage(["/bin/sh", "-c", "echo crashing; exit 3"], []));

    public static async Task<MarketFixture> StartAsync(MarketParams? rules = null, params string[] accounts)
    {
        var fixture = new MarketFixture(System.IO.Directory.CreateTempSubdirectory("skein-market-").FullName);
        rules ??= MarketParams.Default with { BlockIntervalMs = 200, MinDeposit = 1_000_000_000_000UL * 1_000, BidDeposit = 1_000_000_000_000UL * 500 };
        var genesis = new Genesis(ChainId, LedgerParams.Default with { Market = rules },
            accounts.Select(a => new GenesisAllocation(Key(a).Address, Tokens.Whole(1_000))).ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        fixture.Ledger = await EmbeddedLedger.OpenAsync(Path.Combine(fixture.Directory, "chain.db"), genesis);
        fixture._blocks = BlockProducer.Start(fixture.Ledger);
        fixture._api = await MarketApiHost.StartAsync(fixture.Ledger);
        fixture.Market = await MarketApiClient.ConnectAsync(fixture._api.Uri);
        fixture.Providers = new ProviderClient(fixture._http, ChainId);
        fixture.Rules = rules;
        return fixture;
    }

    /// <summary>Starts a provider with scale pricing (uact per core per block) and optional attributes and GPUs.</summary>
    public async Task<ProviderHost> StartProviderAsync(string name, decimal cpuPrice, IReadOnlyDictionary<string, string>? attributes = null,
        IReadOnlyList<GpuCount>? gpus = null, ulong memoryGiB = 32, IBidPricing? pricing = null, Skein.Market.Serving.ServerLimits? limits = null)
    {
        var state = Path.Combine(Directory, "providers", name);
        var store = new ProviderStore(state);
        var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = Path.Combine(state, "runtime"), UseCgroups = false }, Images);
        _runtimeFolders.Add(Path.Combine(state, "runtime"));
        var options = new ProviderOptions
        {
            StateDirectory = state,
            Attributes = attributes ?? new Dictionary<string, string>(),
            Capacity = new ProviderCapacity(8_000, memoryGiB << 30, 200UL << 30, gpus ?? []),
            PollInterval = TimeSpan.FromMilliseconds(100),
            WithdrawInterval = TimeSpan.FromHours(1),
            StopGrace = TimeSpan.FromSeconds(2),
            Limits = limits ?? Skein.Market.Serving.ServerLimits.Default,
        };
        var agent = new ProviderAgent(Market, Key(name), options, pricing ?? new ScalePricing(cpuPrice, 0, 0, new Dictionary<string, decimal>(), 0), runtime, store,
            NullLogger.Instance);
        var host = await ProviderHost.StartAsync(agent, NullLoggerFactory.Instance);
        _providers.Add(host);
        _owned[host] = (store, runtime);
        return host;
    }

    /// <summary>Stops a provider's endpoint and loop as a crash would, leaving its workloads running.</summary>
    public async Task CrashAsync(ProviderHost host)
    {
        _providers.Remove(host);
        await host.DisposeAsync();
        host.Agent.Dispose();
        var (store, runtime) = _owned[host];
        _owned.Remove(host);
        runtime.Dispose();
        store.Dispose();
    }

    public static GroupSpec Group(string name = "node", string price = "1000", uint count = 1, ulong memoryGiB = 1, IReadOnlyDictionary<string, string>? attributes = null,
        string[]? anyOf = null, uint gpus = 0, string[]? gpuModels = null) =>
        new(name, new PlacementRequirements(attributes ?? new Dictionary<string, string>(), [], anyOf ?? []),
            [new GroupResource("node", new ResourceUnits(1_000, memoryGiB << 30, [new StorageUnits("default", 1UL << 30, "default", false)], gpus,
                gpus > 0 ? (gpuModels ?? ["a100"]).Select(m => new GpuModel("nvidia", m)).ToArray() : []), count, new DecCoin("uact", price))]);

    /// <summary>An Akash-style manifest with one group whose one service runs <paramref name="image"/>.</summary>
    public static DeployPlan Plan(GroupSpec group, string image = "test/sleeper:1", string env = "SKEIN_ROLE=trainer")
    {
        var manifest = JsonSerializer.Serialize(new object[]
        {
            new Dictionary<string, object?>
            {
                ["name"] = group.Name,
                ["services"] = new object[]
                {
                    new Dictionary<string, object?>
                    {
                        ["name"] = "node", ["image"] = image, ["command"] = null, ["args"] = null, ["env"] = new[] { env, "SKEIN_KEY_PASSWORD=hunter2" },
                        ["count"] = group.Resources[0].Count,
                        ["resources"] = new Dictionary<string, object?>
                        {
                            ["cpu"] = new { units = new { val = "1000" } }, ["memory"] = new { size = new { val = (1UL << 30).ToString(System.Globalization.CultureInfo.InvariantCulture) } },
                            ["storage"] = new[] { new { name = "default", size = new { val = "1073741824" } } }, ["gpu"] = new { units = new { val = "0" } },
                        },
                    },
                },
            },
        });
        return new DeployPlan([group], manifest, new Hash32(SHA256.HashData(Encoding.UTF8.GetBytes(manifest))));
    }

    public DeployFlow Flow(string tenant) => new(Market, Key(tenant), Providers);

    public static DeployOptions Options(UInt128? deposit = null) => new()
    {
        Deposit = deposit ?? Tokens.Whole(1),
        BidWindow = TimeSpan.FromMilliseconds(400),
        BidTimeout = TimeSpan.FromSeconds(8),
        AskProvidersAfter = TimeSpan.FromSeconds(1),
        UpTimeout = TimeSpan.FromSeconds(20),
        PollInterval = TimeSpan.FromMilliseconds(100),
    };

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
        foreach (var p in _providers.ToArray())
        {
            await CrashAsync(p);
        }
        // Workloads outlive their provider by design: a runtime on each provider's folder kills what is left.
        foreach (var folder in _runtimeFolders)
        {
            using var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = folder, UseCgroups = false }, Images);
            foreach (var w in await runtime.ListAsync(CancellationToken.None))
            {
                await runtime.RemoveAsync(w.Id, CancellationToken.None);
            }
        }
        if (_blocks is not null)
        {
            await _blocks.DisposeAsync();
        }
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
        Market?.Dispose();
        _http.Dispose();
        await Ledger.DisposeAsync();
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
