using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>The provider's lease status, keyed by service name (shape: <c>LeaseStatusResponseSchema</c> in apps/api/src/deployment/http-schemas/lease.schema.ts).</summary>
public sealed record AkashLeaseStatus
{
    [JsonPropertyName("forwarded_ports")]
    public IReadOnlyDictionary<string, IReadOnlyList<AkashForwardedPort>> ForwardedPorts { get; init; } = new Dictionary<string, IReadOnlyList<AkashForwardedPort>>();

    public IReadOnlyDictionary<string, IReadOnlyList<AkashLeaseIp>> Ips { get; init; } = new Dictionary<string, IReadOnlyList<AkashLeaseIp>>();

    public IReadOnlyDictionary<string, AkashServiceStatus> Services { get; init; } = new Dictionary<string, AkashServiceStatus>();
}

/// <summary>A service's replicas and URIs as the provider reports them (<c>LeaseServiceStatusSchema</c>).</summary>
public sealed record AkashServiceStatus
{
    public string Name { get; init; } = "";

    public int Available { get; init; }

    public int Total { get; init; }

    public IReadOnlyList<string> Uris { get; init; } = [];

    [JsonPropertyName("observed_generation")]
    public long ObservedGeneration { get; init; }

    public int Replicas { get; init; }

    [JsonPropertyName("updated_replicas")]
    public int UpdatedReplicas { get; init; }

    [JsonPropertyName("ready_replicas")]
    public int ReadyReplicas { get; init; }

    [JsonPropertyName("available_replicas")]
    public int AvailableReplicas { get; init; }
}

/// <summary>A port the provider forwards to a service (<c>ForwardedPortSchema</c>: camelCase <c>externalPort</c> on the wire).</summary>
public sealed record AkashForwardedPort
{
    public int Port { get; init; }

    public int ExternalPort { get; init; }

    public string? Host { get; init; }

    public int? Available { get; init; }
}

/// <summary>A leased IP (<c>IpSchema</c>: the provider writes these fields in PascalCase, <c>IP</c>, <c>Port</c>, <c>ExternalPort</c>, <c>Protocol</c>).</summary>
public sealed record AkashLeaseIp
{
    [JsonPropertyName("IP")]
    public string Ip { get; init; } = "";

    [JsonPropertyName("Port")]
    public int Port { get; init; }

    [JsonPropertyName("ExternalPort")]
    public int ExternalPort { get; init; }

    [JsonPropertyName("Protocol")]
    public string Protocol { get; init; } = "";
}
