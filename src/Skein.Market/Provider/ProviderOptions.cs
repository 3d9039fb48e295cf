using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>How a provider runs: where it keeps its state, where it listens, what it advertises and holds, and its rhythms.</summary>
public sealed record ProviderOptions
{
    /// <summary>Its store (manifests, workloads) and the runtime's state.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Address its endpoint (manifests, status, logs, quotes) binds to; loopback unless told otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Connections, body sizes, slow clients and requests a second per client on the provider's endpoint.</summary>
    public Serving.ServerLimits Limits { get; init; } = Serving.ServerLimits.Default;

    /// <summary>Port of its endpoint (0: any free port).</summary>
    public int Port { get; init; }

    /// <summary>The URL registered on the ledger as its host URI; by default the address it binds.</summary>
    public Uri? PublicUri { get; init; }

    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    public required ProviderCapacity Capacity { get; init; }

    /// <summary>How often it looks for open orders and its leases' changes.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often it withdraws what its leases earned (Akash's default is daily).</summary>
    public TimeSpan WithdrawInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time a workload gets between SIGTERM and SIGKILL when its lease closes.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Restarts of a failing workload before the provider gives the lease up (and the group reopens for others).</summary>
    public int MaxRestarts { get; init; } = 5;

    /// <summary>A declined order is looked at again after this long (capacity or prices may have changed).</summary>
    public TimeSpan ReconsiderAfter { get; init; } = TimeSpan.FromSeconds(15);
}
