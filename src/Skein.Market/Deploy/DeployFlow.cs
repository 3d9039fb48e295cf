using System.Diagnostics;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market.Provider;

namespace Skein.Market.Deploy;

/// <summary>What to deploy: the SDL's groups (for the ledger) and its manifest (for the providers) with its hash.</summary>
public sealed record DeployPlan(IReadOnlyList<GroupSpec> Groups, string ManifestJson, Hash32 ManifestHash);

/// <summary>How to deploy: the escrow deposit, a price cap per group, a provider to insist on, and how long to wait for bids and for the services.</summary>
public sealed record DeployOptions
{
    public required UInt128 Deposit { get; init; }

    /// <summary>The most to pay per block for a group; by default the SDL's ceiling.</summary>
    public UInt128? MaxPricePerBlock { get; init; }

    /// <summary>Lease from this provider only.</summary>
    public Address? Provider { get; init; }

    /// <summary>After the first acceptable bid on a group, wait this long for cheaper ones (or until every provider bid).</summary>
    public TimeSpan BidWindow { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Give up (and explain) when a group has no acceptable bid after this long.</summary>
    public TimeSpan BidTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Wait this long for every service to run.</summary>
    public TimeSpan UpTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A service counts as up once it has been running this long (one that crashes at start never is).</summary>
    public TimeSpan StableFor { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The deployment's sequence number; by default the time in milliseconds.</summary>
    public ulong? Dseq { get; init; }

    /// <summary>Close the deployment (refunding the deposit) when a group gets no bid.</summary>
    public bool CloseWhenNoBid { get; init; } = true;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>When a group has no bid after this long, ask the providers; if every one says why not, stop waiting.</summary>
    public TimeSpan AskProvidersAfter { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>A lease the flow made: its id, group, provider endpoint, price per block, and the services as the provider reported them.</summary>
public sealed record LeaseOutcome(LeaseId Lease, string Group, Uri ProviderUri, UInt128 PricePerBlock, IReadOnlyList<ServiceView> Services, bool Up);

/// <summary>
/// What a deploy did: the deployment, its leases and their total price per block, the price per hour and the
/// escrow's runway at the market's block interval, why a group got no bid, and when each step finished.
/// </summary>
public sealed record DeployOutcome(DeploymentId Deployment, bool Ok, IReadOnlyList<LeaseOutcome> Leases, UInt128 PricePerBlock, decimal PricePerHour, double? RunwayHours,
    IReadOnlyList<NoBidReport> NoBids, string? Error, double CreatedSeconds, double LeasedSeconds, double UpSeconds);

/// <summary>
/// `skein deploy`'s flow, one code path for the CLI, the demo and the benchmark: create the deployment with its
/// escrow, collect bids, lease the cheapest acceptable one per group (or the given provider's), send the manifest,
/// and follow the services until they run; when a group gets no bid, say why per provider and refund.
/// </summary>
public sealed class DeployFlow(IMarketLedger market, LedgerKey tenant, ProviderClient providers, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<DeployOutcome> RunAsync(DeployPlan plan, DeployOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var status = await market.GetMarketStatusAsync(cancellationToken);
        var rules = status.Params;
        using var signer = new MarketSigner(market, tenant);
        var dseq = options.Dseq ?? (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
        var id = new DeploymentId(tenant.Address, dseq);
        var groupsJson = GroupSpec.ToCanonicalJson(plan.Groups);
        await signer.SendAsync((f, n) => new CreateDeployment { From = f, Nonce = n, Dseq = dseq, ManifestHash = plan.ManifestHash, Groups = groupsJson, Deposit = options.Deposit },
            cancellationToken);
        var created = clock.Elapsed.TotalSeconds;
        progress?.Report($"deployment {dseq} created with {Tokens.Format(options.Deposit)} {Tokens.Symbol} in escrow; waiting for bids");

        var chosen = await CollectBidsAsync(id, options, cancellationToken);
        var missing = chosen.Where(c => c.Value is null).Select(c => c.Key).ToArray();
        if (missing.Length > 0)
        {
            var explainer = new NoBidExplainer(market, providers);
            var deployment = (await market.GetDeploymentAsync(id, cancellationToken))!;
            var reports = new List<NoBidReport>();
            foreach (var gseq in missing)
            {
                var group = deployment.Groups.First(g => g.Gseq == gseq);
                reports.Add(await explainer.ExplainAsync(group.Spec, CapOf(group, options), cancellationToken));
            }
            if (options.CloseWhenNoBid)
            {
                await signer.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = dseq }, cancellationToken);
            }
            return new DeployOutcome(id, false, [], 0, 0, null, reports, $"no acceptable bid for {string.Join(", ", reports.Select(r => r.Group))}",
                created, clock.Elapsed.TotalSeconds, 0);
        }

        var providerUris = (await market.ListProvidersAsync(cancellationToken)).ToDictionary(p => p.Owner, p => new Uri(p.HostUri));
        var leases = new List<(LeaseId Id, string Group, UInt128 Price)>();
        foreach (var (gseq, bid) in chosen)
        {
            var b = bid!;
            await signer.SendAsync((f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = gseq, Oseq = b.Id.Oseq, Provider = b.Id.Provider }, cancellationToken);
            leases.Add((b.Id, plan.Groups[(int)gseq - 1].Name, b.Price));
            progress?.Report($"group {plan.Groups[(int)gseq - 1].Name}: leased from {b.Id.Provider} at {rules.FromBaseUnits(b.Price)} {rules.Denom}/block");
        }
        var leased = clock.Elapsed.TotalSeconds;

        foreach (var provider in leases.Select(l => l.Id.Provider).Distinct())
        {
            await SendManifestAsync(providerUris[provider], provider, id, plan.ManifestJson, cancellationToken);
        }
        progress?.Report("manifest sent; waiting for the services to run");
        var outcomes = await WaitUpAsync(leases, providerUris, options, cancellationToken);
        var up = clock.Elapsed.TotalSeconds;
        var rate = leases.Aggregate(UInt128.Zero, (s, l) => s + l.Price);
        var escrow = (await market.GetDeploymentAsync(id, cancellationToken))!.Escrow;
        var blocksPerHour = 3_600_000m / rules.BlockIntervalMs;
        var perHour = decimal.Parse(rules.FromBaseUnits(rate), System.Globalization.CultureInfo.InvariantCulture) * blocksPerHour;
        double? runway = escrow.RunwayBlocks is { } blocks ? blocks * (double)rules.BlockIntervalMs / 3_600_000.0 : null;
        var ok = outcomes.All(o => o.Up);
        return new DeployOutcome(id, ok, outcomes, rate, perHour, runway, [], ok ? null : "not every service is running; see `skein deploy status`", created, leased, up);
    }

    private static UInt128 CapOf(GroupInfo group, DeployOptions options) =>
        options.MaxPricePerBlock is { } max && max < group.CeilingPerBlock ? max : group.CeilingPerBlock;

    /// <summary>Per group, the cheapest acceptable open bid, waiting as <see cref="DeployOptions"/> says; null for a group that got none.</summary>
    private async Task<Dictionary<uint, BidInfo?>> CollectBidsAsync(DeploymentId id, DeployOptions options, CancellationToken cancellationToken)
    {
        var providerCount = (await market.ListProvidersAsync(cancellationToken)).Count;
        var started = _time.GetUtcNow();
        var firstAcceptable = new Dictionary<uint, DateTimeOffset>();
        var asked = false;
        while (true)
        {
            var deployment = await market.GetDeploymentAsync(id, cancellationToken) ?? throw new InvalidOperationException($"deployment {id} vanished");
            var now = _time.GetUtcNow();
            var result = new Dictionary<uint, BidInfo?>();
            var settled = true;
            foreach (var group in deployment.Groups)
            {
                var order = group.Orders[^1];
                var cap = CapOf(group, options);
                var acceptable = order.Bids.Where(b => b.Status == BidStatus.Open && b.Price <= cap && (options.Provider is not { } p || b.Id.Provider == p))
                    .OrderBy(b => b.Price).ThenBy(b => b.CreatedAt).ThenBy(b => b.Id.Provider).ToArray();
                result[group.Gseq] = acceptable.FirstOrDefault();
                if (acceptable.Length > 0 && !firstAcceptable.ContainsKey(group.Gseq))
                {
                    firstAcceptable[group.Gseq] = now;
                }
                var everyoneBid = order.Bids.Count >= providerCount || (options.Provider is not null && acceptable.Length > 0);
                var windowOver = firstAcceptable.TryGetValue(group.Gseq, out var first) && now - first >= options.BidWindow;
                if (!(everyoneBid || windowOver))
                {
                    settled = false;
                }
            }
            if (settled && result.Values.All(b => b is not null))
            {
                return result;
            }
            if (now - started >= options.BidTimeout)
            {
                return result;
            }
            if (!asked && now - started >= options.AskProvidersAfter && result.Values.Any(b => b is null))
            {
                // Every provider's own engine saying no (with a reason) is an answer: no need to wait out the timeout.
                asked = true;
                var explainer = new NoBidExplainer(market, providers);
                var definite = true;
                foreach (var group in deployment.Groups.Where(g => result[g.Gseq] is null))
                {
                    var report = await explainer.ExplainAsync(group.Spec, CapOf(group, options), cancellationToken);
                    definite &= report.Providers.Count > 0 && report.Providers.All(v => v.Kind is not (NoBidKind.None or NoBidKind.Unreachable));
                }
                if (definite)
                {
                    return result;
                }
            }
            await Task.Delay(options.PollInterval, _time, cancellationToken);
        }
    }

    private async Task SendManifestAsync(Uri uri, Address provider, DeploymentId id, string manifest, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await providers.SendManifestAsync(uri, provider, tenant, id, manifest, cancellationToken);
                return;
            }
            catch (HttpRequestException) when (attempt < 5)
            {
                // The provider may be restarting: a few spaced retries before giving up.
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), _time, cancellationToken);
            }
        }
    }

    private async Task<IReadOnlyList<LeaseOutcome>> WaitUpAsync(List<(LeaseId Id, string Group, UInt128 Price)> leases, Dictionary<Address, Uri> uris, DeployOptions options,
        CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + options.UpTimeout;
        while (true)
        {
            var outcomes = new List<LeaseOutcome>();
            foreach (var (lease, group, price) in leases)
            {
                LeaseStatusView? status = null;
                try
                {
                    status = await providers.LeaseStatusAsync(uris[lease.Provider], lease, cancellationToken);
                }
                catch (HttpRequestException)
                {
                    // not answering this time
                }
                outcomes.Add(new LeaseOutcome(lease, group, uris[lease.Provider], price, status?.Services ?? [], status?.UpAt(_time.GetUtcNow(), options.StableFor) ?? false));
            }
            if (outcomes.All(o => o.Up) || _time.GetUtcNow() >= deadline)
            {
                return outcomes;
            }
            await Task.Delay(options.PollInterval, _time, cancellationToken);
        }
    }
}
