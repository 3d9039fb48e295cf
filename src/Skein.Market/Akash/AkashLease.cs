using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>A lease of a deployment (shape: <c>DeploymentLeaseSchema</c> in apps/api/src/deployment/http-schemas/deployment.schema.ts).</summary>
public sealed record AkashLease
{
    public required AkashLeaseId Id { get; init; }

    /// <summary>"active", "insufficient_funds" or "closed".</summary>
    public string State { get; init; } = "";

    /// <summary>The price per block, the winning bid's.</summary>
    public required AkashCoin Price { get; init; }

    [JsonPropertyName("created_at")]
    public string CreatedAt { get; init; } = "";

    /// <summary>The height the lease closed at; "0" while it is open.</summary>
    [JsonPropertyName("closed_on")]
    public string ClosedOn { get; init; } = "";

    public string? Reason { get; init; }

    /// <summary>The provider's report on the running services; null when Console could not reach the provider.</summary>
    public AkashLeaseStatus? Status { get; init; }
}

/// <summary>A lease's id: the bid's id (<c>owner</c>, <c>dseq</c>, <c>gseq</c>, <c>oseq</c>, <c>provider</c>, <c>bseq</c>).</summary>
public sealed record AkashLeaseId
{
    public string Owner { get; init; } = "";

    public required string Dseq { get; init; }

    public required int Gseq { get; init; }

    public required int Oseq { get; init; }

    public required string Provider { get; init; }

    public int Bseq { get; init; }
}
