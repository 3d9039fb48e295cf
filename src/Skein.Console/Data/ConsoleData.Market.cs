using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Skein.Market.Provider;

namespace Skein.Console.Data;

/// <summary>A provider as the market page shows it: the ledger's record, and what its endpoint says when it answers (free resources, a reference quote).</summary>
public sealed record ProviderSnapshot(ProviderInfo Info, ProviderStatusView? Status, QuoteView? Quote, string? Unreachable);

/// <summary>A lease as the ledger settles it, with its deployment, its provider's record and the market's rules.</summary>
public sealed record LeaseView(DeploymentInfo Deployment, LeaseInfo Lease, ProviderInfo? Provider, MarketParams Rules);

/// <summary>The market's reads that go beyond the ledger: each provider's own endpoint, for its free resources, a quote, a lease's services and logs.</summary>
public sealed partial class ConsoleData
{
    // A provider that does not answer within this long shows as unreachable: a page never waits on a dead provider.
    private static readonly TimeSpan ProviderTimeout = TimeSpan.FromSeconds(3);

    // Providers' quotes and free resources change with their leases, not with every block: asked again after this much ledger time.
    private const long SnapshotMaxAgeMs = 5_000;

    private readonly HttpClient _providerHttp = new() { Timeout = TimeSpan.FromSeconds(30) };
    private ProviderClient? _providerClient;
    private SnapshotCache? _snapshots;

    private sealed record SnapshotCache(long Timestamp, string Providers, IReadOnlyList<ProviderSnapshot> Snapshots);

    /// <summary>
    /// The order every provider is asked to quote, so that their prices compare: one core, 1 GiB of memory and 1 GiB
    /// of storage for one instance (providers publish no price list; their bid engines price an order).
    /// </summary>
    public static GroupSpec ReferenceOrder(string denom) =>
        new("reference", new PlacementRequirements(new Dictionary<string, string>(), [], []),
            [new GroupResource("node", new ResourceUnits(1_000, 1UL << 30, [new StorageUnits("default", 1UL << 30, "default", false)], 0, []), 1,
                new DecCoin(denom, "1000000000"))]);

    /// <summary>The client for providers' endpoints, signing for this market's chain.</summary>
    public async Task<ProviderClient> ProviderClientAsync(CancellationToken ct)
    {
        var market = await MarketAsync(ct);
        return _providerClient ??= new ProviderClient(_providerHttp, market.ChainId);
    }

    /// <summary>Every provider with its endpoint's answers, asked at once and at most every few seconds of ledger time.</summary>
    public async Task<IReadOnlyList<ProviderSnapshot>> ProviderSnapshotsAsync(IReadOnlyList<ProviderInfo> providers, MarketStatus status, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentNullException.ThrowIfNull(status);
        var key = string.Join(",", providers.Select(p => $"{p.Owner}@{p.HostUri}"));
        if (_snapshots is { } cached && cached.Providers == key && status.Timestamp - cached.Timestamp < SnapshotMaxAgeMs)
        {
            return cached.Snapshots;
        }
        var client = await ProviderClientAsync(ct);
        var rules = status.Params;
        var order = ReferenceOrder(rules.Denom);
        var snapshots = await Task.WhenAll(providers.Select(async p =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ProviderTimeout);
            try
            {
                var uri = new Uri(p.HostUri);
                var answer = await client.StatusAsync(uri, timeout.Token);
                var quote = await client.QuoteAsync(uri, order, MarketApiMapping.Coin(rules, rules.ToBaseUnits(order.Resources[0].Price, "ceiling")), timeout.Token);
                return new ProviderSnapshot(p, answer, quote, null);
            }
            catch (Exception ex) when (ex is HttpRequestException or ProviderRefusedException or OperationCanceledException or UriFormatException or System.Text.Json.JsonException
                && !ct.IsCancellationRequested)
            {
                return new ProviderSnapshot(p, null, null, $"did not answer at {p.HostUri}: {ex.Message}");
            }
        }));
        _snapshots = new SnapshotCache(status.Timestamp, key, snapshots);
        return snapshots;
    }

    /// <summary>A lease as the ledger has it now; null when the ledger has no such lease.</summary>
    public async Task<LeaseView?> LeaseAsync(LeaseId id, CancellationToken ct)
    {
        var market = await MarketAsync(ct);
        var deployment = await market.GetDeploymentAsync(id.Deployment, ct);
        var lease = deployment?.Leases.FirstOrDefault(l => l.Id == id);
        if (deployment is null || lease is null)
        {
            return null;
        }
        var rules = (await market.GetMarketStatusAsync(ct)).Params;
        return new LeaseView(deployment, lease, await market.GetProviderAsync(id.Provider, ct), rules);
    }

    /// <summary>
    /// The lease's services and events as its provider runs them (what `skein deploy status` prints). Providers answer
    /// this to anyone, as Akash's do; only the logs need the owner's proof.
    /// </summary>
    public async Task<(LeaseStatusView? Status, string? Error)> LeaseStatusAsync(LeaseView lease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease.Provider is null)
        {
            return (null, "the provider is no longer registered on the market");
        }
        var client = await ProviderClientAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProviderTimeout);
        try
        {
            return (await client.LeaseStatusAsync(new Uri(lease.Provider.HostUri), lease.Lease.Id, timeout.Token), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or ProviderRefusedException or OperationCanceledException or UriFormatException or System.Text.Json.JsonException
            && !ct.IsCancellationRequested)
        {
            return (null, $"the provider did not answer at {lease.Provider.HostUri}: {ex.Message}");
        }
    }

    /// <summary>The last <paramref name="last"/> lines of the lease's logs, read with a proof signed by its owner's key (`skein deploy logs`).</summary>
    public async Task<(IReadOnlyList<string> Lines, string? Error)> LeaseLogsAsync(LeaseView lease, LedgerKey tenant, int last, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(tenant);
        if (lease.Provider is null)
        {
            return ([], "the provider is no longer registered on the market");
        }
        var client = await ProviderClientAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProviderTimeout);
        var lines = new Queue<string>();
        try
        {
            await foreach (var line in client.LogsAsync(new Uri(lease.Provider.HostUri), tenant, lease.Lease.Id, follow: false, timeout.Token))
            {
                lines.Enqueue(line);
                if (lines.Count > last)
                {
                    lines.Dequeue();
                }
            }
            return (lines.ToArray(), null);
        }
        catch (ProviderRefusedException ex)
        {
            return (lines.ToArray(), $"the provider refused: {ex.Message}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or UriFormatException && !ct.IsCancellationRequested)
        {
            return (lines.ToArray(), $"the provider did not answer at {lease.Provider.HostUri}: {ex.Message}");
        }
    }
}
