using Skein.Market.Api;

namespace Skein.Market.Provider;

/// <summary>A provider's status page (<c>GET /status</c>): who it is, what it holds and has free, its runtime and what it enforces.</summary>
public sealed record ProviderStatusView(string Provider, string HostUri, IReadOnlyDictionary<string, string> Attributes, string Pricing,
    ResourceView Capacity, ResourceView Free, IReadOnlyList<GpuView> Gpus, string Runtime, IReadOnlyList<string> RuntimeNotes, int ActiveLeases, int Workloads, int Bids);

/// <summary>CPU, memory and storage in plain units.</summary>
public sealed record ResourceView(double Cpu, double MemoryGiB, double StorageGiB);

/// <summary>GPUs of a model: held and free.</summary>
public sealed record GpuView(string Vendor, string Model, uint Count, uint Free);

/// <summary>A bid engine's answer to <c>POST /quote</c>: the price it would bid, or the kind and words of its reason not to.</summary>
public sealed record QuoteView(bool Bid, ApiCoin? Price, string Kind, string? Reason, IReadOnlyList<string> GpuModels);

/// <summary>The body of <c>POST /quote</c>: a group and the tenant's ceiling per block.</summary>
public sealed record QuoteRequest(Skein.Ledger.Market.GroupSpec Spec, ApiCoin Ceiling);

/// <summary>One instance of one service of a lease, as the provider runs it.</summary>
public sealed record ServiceView(string Service, int Instance, string Workload, string State, int? Pid, int? ExitCode, DateTimeOffset? StartedAt, long Restarts,
    IReadOnlyList<string> LimitNotes, string? Error);

/// <summary>A lease as its provider sees it (<c>GET /lease/.../status</c>): the ledger's state, whether the manifest came, and its services.</summary>
public sealed record LeaseStatusView(string Lease, string State, bool ManifestReceived, IReadOnlyList<ServiceView> Services)
{
    /// <summary>The lease's last events on this provider, oldest first.</summary>
    public IReadOnlyList<LeaseEvent> Events { get; init; } = [];

    /// <summary>True when the lease is active and every instance of every service runs.</summary>
    public bool Running => State == "active" && ManifestReceived && Services.Count > 0 && Services.All(s => s.State == "running");

    /// <summary>True when every service has been running for at least <paramref name="stableFor"/> (a crashing service is not up).</summary>
    public bool UpAt(DateTimeOffset now, TimeSpan stableFor) => Running && Services.All(s => s.StartedAt is { } t && now - t >= stableFor);
}
