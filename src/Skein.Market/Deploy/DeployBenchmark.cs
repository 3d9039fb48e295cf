using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;
using Skein.Market.Api;
using Skein.Market.Provider;
using Skein.Market.Runtime;

namespace Skein.Market.Deploy;

/// <summary>Deploy-to-running latency over sequential deployments on a local market of several providers.</summary>
/// <param name="Deployments">Deployments measured.</param>
/// <param name="Providers">Providers on the market.</param>
/// <param name="P50Seconds">Median seconds from the deploy call to every service running (stable for a second).</param>
/// <param name="P95Seconds">95th percentile of the same.</param>
/// <param name="MeanCreatedSeconds">Mean seconds until the deployment was on the ledger.</param>
/// <param name="MeanLeasedSeconds">Mean seconds until the lease was on the ledger (bids collected and chosen).</param>
/// <param name="Samples">Every deployment's seconds, in order.</param>
/// <param name="LeasesByProvider">Where the leases went.</param>
public sealed record DeployBenchmarkResult(int Deployments, int Providers, double P50Seconds, double P95Seconds, double MeanCreatedSeconds, double MeanLeasedSeconds,
    IReadOnlyList<double> Samples, IReadOnlyDictionary<string, int> LeasesByProvider);

/// <summary>
/// Measures `skein deploy` end to end on loopback: a ledger and the market API, providers with the process runtime,
/// and a tenant deploying the trainer template again and again (each deployment closed once it runs).
/// </summary>
public static class DeployBenchmark
{
    public static async Task<DeployBenchmarkResult> RunAsync(int deployments, IImageResolver images, string templatesRoot, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(log);
        var dir = Directory.CreateTempSubdirectory("skein-bench-market-").FullName;
        var providerNames = new[] { "provider-a", "provider-b", "provider-c" };
        LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("skein-bench-market/" + name)));
        var parameters = LedgerParams.Default with { Market = MarketParams.Default with { BlockIntervalMs = 1_000, MinDeposit = Tokens.One / 10, BidDeposit = Tokens.One / 100 } };
        var genesis = new Genesis(5_151, parameters, [.. providerNames.Append("tenant").Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(100_000)))],
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var nodes = new List<ProviderNode>();
        var keys = new List<LedgerKey>();
        MarketApiHost? api = null;
        BlockProducer? blocks = null;
        EmbeddedLedger? ledger = null;
        try
        {
            ledger = await EmbeddedLedger.OpenAsync(Path.Combine(dir, "chain.db"), genesis, cancellationToken: cancellationToken);
            blocks = BlockProducer.Start(ledger);
            api = await MarketApiHost.StartAsync(ledger, cancellationToken);
            var marketUri = api.Uri;
            for (var i = 0; i < providerNames.Length; i++)
            {
                var key = Key(providerNames[i]);
                keys.Add(key);
                nodes.Add(await ProviderNode.StartAsync(new ProviderNodeOptions
                {
                    Market = marketUri,
                    Pricing = new ScalePricing(100 + (20 * i), 0, 0, new Dictionary<string, decimal>(), 0),
                    Images = images,
                    Provider = new ProviderOptions
                    {
                        StateDirectory = Path.Combine(dir, providerNames[i]),
                        Capacity = new ProviderCapacity(64_000, 256UL << 30, 4UL << 40, []),
                    },
                }, key, NullLoggerFactory.Instance, cancellationToken));
            }
            using var market = await MarketApiClient.ConnectAsync(marketUri, cancellationToken: cancellationToken);
            using var tenant = Key("tenant");
            using var node = Key("node");
            var sets = new Dictionary<string, string>
            {
                // The node has no coordinator to reach: it starts, and keeps retrying, which is all "running" needs.
                ["SKEIN_COORDINATOR"] = "http://127.0.0.1:9/",
                ["SKEIN_KEY_JSON"] = KeyFile.Encrypt(node, "bench", KdfStrength.Light),
                ["SKEIN_KEY_PASSWORD"] = "bench",
                ["SKEIN_DATA"] = Directory.CreateDirectory(Path.Combine(dir, "node-data")).FullName,
                ["SKEIN_STATUS_PORT"] = "0",
                ["cpu"] = "1",
                ["memory"] = "1Gi",
            };
            var source = DeploySource.Load("skein-trainer", sets, templatesRoot);
            if (!source.Ok)
            {
                throw new InvalidOperationException(string.Join("; ", source.Errors));
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var providers = new ProviderClient(http, market.ChainId);
            var flow = new DeployFlow(market, tenant, providers);
            using var signer = new MarketSigner(market, tenant);
            var samples = new List<DeployOutcome>();
            for (var i = 0; i < deployments; i++)
            {
                var outcome = await flow.RunAsync(source.Plan!, new DeployOptions { Deposit = Tokens.Whole(1) }, null, cancellationToken);
                if (!outcome.Ok)
                {
                    throw new InvalidOperationException($"deployment {i + 1} failed: {outcome.Error}");
                }
                samples.Add(outcome);
                await log.WriteLineAsync(System.FormattableString.Invariant($"deployment {i + 1,2}: running after {outcome.UpSeconds:0.00} s (leased after {outcome.LeasedSeconds:0.00} s)"));
                await signer.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = outcome.Deployment.Dseq }, cancellationToken);
            }
            var ups = samples.Select(s => s.UpSeconds).ToArray();
            var sorted = ups.Order().ToArray();
            var names = new Dictionary<Address, string>();
            for (var i = 0; i < providerNames.Length; i++)
            {
                using var k = Key(providerNames[i]);
                names[k.Address] = providerNames[i];
            }
            return new DeployBenchmarkResult(deployments, providerNames.Length, Percentile(sorted, 0.5), Percentile(sorted, 0.95),
                samples.Average(s => s.CreatedSeconds), samples.Average(s => s.LeasedSeconds), ups,
                samples.SelectMany(s => s.Leases).GroupBy(l => names[l.Lease.Provider]).ToDictionary(g => g.Key, g => g.Count()));
        }
        finally
        {
            foreach (var n in nodes)
            {
                await n.DisposeAsync();
            }
            foreach (var k in keys)
            {
                k.Dispose();
            }
            if (OperatingSystem.IsLinux())
            {
                foreach (var name in providerNames)
                {
                    var folder = Path.Combine(dir, name, "runtime");
                    if (Directory.Exists(folder))
                    {
                        using var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = folder }, images);
                        foreach (var w in await runtime.ListAsync(CancellationToken.None))
                        {
                            await runtime.RemoveAsync(w.Id, CancellationToken.None);
                        }
                    }
                }
            }
            if (api is not null)
            {
                await api.DisposeAsync();
            }
            if (blocks is not null)
            {
                await blocks.DisposeAsync();
            }
            if (ledger is not null)
            {
                await ledger.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // a workload's log may still be open for a moment; the folder is in the temp folder
            }
        }
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
