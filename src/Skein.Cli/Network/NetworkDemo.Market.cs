using System.Diagnostics;
using System.Globalization;
using Skein.Cli.Market;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Skein.Market.Runtime;

namespace Skein.Cli.Network;

/// <summary>A local provider of the demo: its name, price per core per block (uact), cores for sale, attributes, and whether the auditor signs it.</summary>
public sealed record DemoProvider(string Name, decimal PricePerCore, int Cores, string Region, bool Audited);

/// <summary>A provider in the demo's summary: what it leased and earned.</summary>
public sealed record DemoMarketProvider(string Name, string Address, string Region, bool Audited, decimal PricePerCore, int Leases, string Earned);

/// <summary>A lease in the demo's summary: which node ran where, at what price, and what the provider was paid.</summary>
public sealed record DemoMarketLease(string Node, string Provider, string Lease, string PricePerBlock, string Paid, double DeploySeconds);

/// <summary>The market's part of the demo's summary.</summary>
public sealed record DemoMarket(string Denom, ulong BlockIntervalMs, IReadOnlyList<DemoMarketProvider> Providers, IReadOnlyList<DemoMarketLease> Leases,
    double DeployP50Seconds, double DeployMaxSeconds, bool SupplyConserved);

/// <summary>The demo rents its nodes: three local providers, and every node deployed from its template through `skein deploy`'s flow.</summary>
public sealed partial class NetworkDemo
{
    /// <summary>
    /// Three providers with different prices and capacity: the cheapest fills up first, the validators (whose
    /// template asks for an audited provider) can only go to the audited one, and the dearest gets what is left.
    /// </summary>
    public static readonly IReadOnlyList<DemoProvider> DemoProviders =
    [
        new("provider-a", 120, 6, "eu", Audited: true),
        new("provider-b", 90, 6, "us", Audited: false),
        new("provider-c", 150, 8, "eu", Audited: false),
    ];

    private readonly Dictionary<string, (Process Process, Uri Uri, Address Address)> _providers = [];
    private readonly Dictionary<string, (DeploymentId Deployment, DeployOutcome Outcome)> _rented = [];
    private MarketApiClient? _market;

    /// <summary>The deployments the demo made, by node name.</summary>
    public IReadOnlyDictionary<string, (DeploymentId Deployment, DeployOutcome Outcome)> Rented => _rented;

    private async Task StartProvidersAsync(CancellationToken cancellationToken)
    {
        _market = await MarketApiClient.ConnectAsync(ApiUri!, cancellationToken: cancellationToken);
        // All three start at once; each then says where it listens.
        var started = DemoProviders.Select(p => (Provider: p, Process: Start(p.Name, ["provider", "--key", KeyFile(p.Name), "--market", ApiUri!.ToString(), "--state-dir", Path.Combine(_work, "providers", p.Name),
                "--cpu", p.Cores.ToString(CultureInfo.InvariantCulture), "--memory", "32Gi", "--storage", "400Gi",
                "--price-cpu", p.PricePerCore.ToString(CultureInfo.InvariantCulture), "--price-memory", "0", "--price-storage", "0",
                "--attribute", $"region={p.Region}", "--attribute", $"tier={(p.Audited ? "audited" : "community")}",
                "--withdraw-every", "20", "--poll-ms", "500"]))).ToArray();
        foreach (var (p, process) in started)
        {
            Uri? uri = null;
            Address? address = null;
            for (var i = 0; i < 10 && uri is null; i++)
            {
                var line = await process.StandardOutput.ReadLineAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"{p.Name} exited before listening; see {Path.Combine(_work, "logs", p.Name + ".log")}");
                if (line.StartsWith("provider ", StringComparison.Ordinal))
                {
                    address = Address.Parse(line[9..]);
                }
                else if (line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    uri = new Uri(line[10..]);
                }
            }
            _providers[p.Name] = (process, uri ?? throw new InvalidOperationException($"{p.Name} printed no address"), address!.Value);
            Names[address.Value.ToString()] = p.Name;
        }
        using var auditor = KeyOf("auditor");
        Names[auditor.Address.ToString()] = "auditor";
        using var signer = new MarketSigner(_market, auditor);
        foreach (var p in DemoProviders.Where(p => p.Audited))
        {
            await signer.SendAsync((f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = _providers[p.Name].Address, Attributes = """{"tier":"audited"}""" }, cancellationToken);
        }
        log.WriteLine(string.Join(", ", DemoProviders.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.Name} ({p.Cores} CPU at {p.PricePerCore} uact/core/block, {p.Region}{(p.Audited ? ", audited" : "")})"))));
    }

    /// <summary>Every node rents its own machine: its template rendered with its key and data, deployed through the flow of `skein deploy`.</summary>
    private async Task RentNodesAsync(string coordinator, string[] trainers, string[] validators, CancellationToken cancellationToken)
    {
        using var auditor = KeyOf("auditor");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var providers = new ProviderClient(http, _market!.ChainId);
        var options = new DeployOptions
        {
            Deposit = Tokens.Whole(2),
            BidWindow = TimeSpan.FromSeconds(1.5),
            AskProvidersAfter = TimeSpan.FromSeconds(20),
            BidTimeout = TimeSpan.FromSeconds(60),
            UpTimeout = TimeSpan.FromSeconds(90),
            PollInterval = TimeSpan.FromMilliseconds(250),
        };
        var jobs = trainers.Select(t => (Name: t, Template: "skein-trainer", Sets: new Dictionary<string, string>
            {
                ["SKEIN_STAKE"] = "50",
                ["SKEIN_BEHAVIOUR"] = t == MaliciousName ? "sign-flip" : "honest",
                ["cpu"] = "1",
            }))
            .Concat(validators.Select(v => (Name: v, Template: "skein-validator", Sets: new Dictionary<string, string>
            {
                ["SKEIN_STAKE"] = "100",
                ["cpu"] = "1",
                ["attr.tier"] = "audited",
                ["signed_by"] = auditor.Address.ToString(),
            }))).ToArray();
        var clock = Stopwatch.StartNew();
        async Task<(string Name, DeployOutcome Outcome)> Rent((string Name, string Template, Dictionary<string, string> Sets) job)
        {
            var sets = new Dictionary<string, string>(job.Sets)
            {
                ["SKEIN_COORDINATOR"] = coordinator,
                ["SKEIN_TASK"] = "1",
                ["SKEIN_KEY_JSON"] = await File.ReadAllTextAsync(KeyFile(job.Name), cancellationToken),
                ["SKEIN_KEY_PASSWORD"] = _password,
                ["SKEIN_DATA"] = Path.Combine(_work, job.Name),
                ["SKEIN_STATUS_PORT"] = "0",
            };
            var source = DeploySource.Load(job.Template, sets);
            if (!source.Ok)
            {
                throw new InvalidOperationException($"{job.Name}: {string.Join("; ", source.Errors)}");
            }
            using var key = KeyOf(job.Name);
            var outcome = await new DeployFlow(_market, key, providers).RunAsync(source.Plan!, options, null, cancellationToken);
            return (job.Name, outcome);
        }
        // The validators first: only the audited provider may take them, and trainers renting at the same time could
        // fill it (it is not the cheapest, but the cheapest runs out of room); then the trainers, all at once.
        var outcomes = (await Task.WhenAll(jobs.Where(j => j.Template == "skein-validator").Select(Rent)))
            .Concat(await Task.WhenAll(jobs.Where(j => j.Template != "skein-validator").Select(Rent))).ToArray();
        foreach (var (name, outcome) in outcomes)
        {
            _rented[name] = (outcome.Deployment, outcome);
            if (!outcome.Ok)
            {
                throw new InvalidOperationException($"{name} could not be rented: {outcome.Error}{string.Concat(outcome.NoBids.Select(b => $"; {b.Group}: {b.Summary}"))}");
            }
        }
        var byProvider = outcomes.SelectMany(o => o.Outcome.Leases).GroupBy(l => Names.GetValueOrDefault(l.Lease.Provider.ToString(), "?"))
            .Select(g => $"{g.Key} {g.Count()}").Order(StringComparer.Ordinal);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rented {outcomes.Length} nodes through the market in {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", byProvider)}"));
    }

    /// <summary>Closes every deployment (providers are paid to this block, their workloads stop) and reads what the market did.</summary>
    public async Task<DemoMarket?> SettleMarketAsync(CancellationToken cancellationToken)
    {
        if (_market is null)
        {
            return null;
        }
        foreach (var (name, (deployment, _)) in _rented)
        {
            using var key = KeyOf(name);
            using var signer = new MarketSigner(_market, key);
            var d = await _market.GetDeploymentAsync(deployment, cancellationToken);
            if (d is { Status: DeploymentStatus.Active })
            {
                await signer.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = deployment.Dseq }, cancellationToken);
            }
        }
        var rules = (await _market.GetMarketStatusAsync(cancellationToken)).Params;
        var leases = new List<DemoMarketLease>();
        foreach (var (name, (deployment, outcome)) in _rented.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var d = await _market.GetDeploymentAsync(deployment, cancellationToken);
            foreach (var l in d?.Leases ?? [])
            {
                leases.Add(new DemoMarketLease(name, Names.GetValueOrDefault(l.Id.Provider.ToString(), l.Id.Provider.ToString()), l.Id.ToString(),
                    rules.FromBaseUnits(l.Price), rules.FromBaseUnits(l.Paid), Math.Round(outcome.UpSeconds, 3)));
            }
        }
        var providers = DemoProviders.Where(p => _providers.ContainsKey(p.Name)).Select(p =>
        {
            var mine = leases.Where(l => l.Provider == p.Name).ToArray();
            var earned = mine.Aggregate(UInt128.Zero, (s, l) => s + rules.ToBaseUnits(new DecCoin(rules.Denom, l.Paid), "paid"));
            return new DemoMarketProvider(p.Name, _providers[p.Name].Address.ToString(), p.Region, p.Audited, p.PricePerCore, mine.Length, rules.FromBaseUnits(earned));
        }).ToArray();
        var deploys = _rented.Values.Select(r => r.Outcome.UpSeconds).DefaultIfEmpty(0).Order().ToArray();
        var status = await _api!.GetStatusAsync(cancellationToken);
        return new DemoMarket(rules.Denom, rules.BlockIntervalMs, providers, leases, Math.Round(deploys[deploys.Length / 2], 3), Math.Round(deploys[^1], 3),
            status.Supply?.Conserved ?? false);
    }

    /// <summary>Stops what the market started: providers stop their workloads once the leases close; whatever is left is killed from the runtimes' own records.</summary>
    private async Task StopMarketAsync()
    {
        if (_market is null)
        {
            return;
        }
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await SettleMarketAsync(cancel.Token);
            for (var i = 0; i < 50 && await AnyWorkloadRunningAsync(cancel.Token); i++)
            {
                await Task.Delay(200, cancel.Token);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or LedgerException or OperationCanceledException or InvalidOperationException or KeyNotFoundException)
        {
            log.WriteLine($"market: could not close every deployment ({ex.Message}); stopping the workloads directly");
        }
        foreach (var (process, _, _) in _providers.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // gone already
            }
        }
        if (OperatingSystem.IsLinux())
        {
            // Workloads run detached from their provider (so that a restarted provider can adopt them): clean up by their records.
            foreach (var name in _providers.Keys)
            {
                var folder = Path.Combine(_work, "providers", name, "runtime");
                if (!Directory.Exists(folder))
                {
                    continue;
                }
                using var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = folder }, new ImageCatalog());
                foreach (var w in await runtime.ListAsync(CancellationToken.None))
                {
                    if (w.State == WorkloadState.Running)
                    {
                        await runtime.StopAsync(w.Id, TimeSpan.FromSeconds(2), CancellationToken.None);
                    }
                }
            }
        }
        _market.Dispose();
        _market = null;
    }

    private async Task<bool> AnyWorkloadRunningAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var client = new ProviderClient(http, _market!.ChainId);
        foreach (var (_, uri, _) in _providers.Values)
        {
            try
            {
                if ((await client.StatusAsync(uri, cancellationToken)).Workloads > 0)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // a provider that does not answer cannot be waited for
            }
        }
        return false;
    }
}
