using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>What <c>POST /v1/deployments</c> returns in <c>data</c> (shape: <c>CreateDeploymentResponseSchema</c> in apps/api/src/deployment/http-schemas/deployment.schema.ts).</summary>
public sealed record AkashCreatedDeployment
{
    /// <summary>The deployment sequence; the managed wallet picks it as the creation time in milliseconds (deployment-writer.service.ts).</summary>
    public required string Dseq { get; init; }

    /// <summary>The manifest as sorted JSON (chain-sdk's <c>manifestToSortedJSON</c>): a JSON array of groups, sent back as is with the lease.</summary>
    public required string Manifest { get; init; }

    /// <summary>The result of the create transaction (<c>SignTxResponseOutputSchema</c> in apps/api/src/billing/http-schemas/tx.schema.ts).</summary>
    public AkashTxResult? SignTx { get; init; }
}

/// <summary>A broadcast transaction's outcome: <c>code</c> (0 is success), <c>transactionHash</c>, <c>rawLog</c>.</summary>
public sealed record AkashTxResult
{
    public int Code { get; init; }

    public string TransactionHash { get; init; } = "";

    public string RawLog { get; init; } = "";
}

/// <summary>A deployment with its leases and escrow (shape: <c>DeploymentResponseSchema</c> in apps/api/src/deployment/http-schemas/deployment.schema.ts).</summary>
/// <remarks>Returned by <c>GET /v1/deployments/{dseq}</c>, <c>POST /v1/leases</c> and <c>POST /v1/deposit-deployment</c>; the chain's <c>groups</c> are stripped by the schema.</remarks>
public sealed record AkashDeploymentDetails
{
    public required AkashDeployment Deployment { get; init; }

    public IReadOnlyList<AkashLease> Leases { get; init; } = [];

    [JsonPropertyName("escrow_account")]
    public AkashEscrowAccount? EscrowAccount { get; init; }
}

/// <summary>The on-chain deployment: id, <c>state</c> ("active" or "closed"), the manifest <c>hash</c> (base64) and <c>created_at</c> (a height).</summary>
public sealed record AkashDeployment
{
    public required AkashDeploymentId Id { get; init; }

    public string State { get; init; } = "";

    public string Hash { get; init; } = "";

    [JsonPropertyName("created_at")]
    public string CreatedAt { get; init; } = "";
}

/// <summary>A deployment's id: the <c>owner</c> (the managed wallet's address) and <c>dseq</c>.</summary>
public sealed record AkashDeploymentId
{
    public string Owner { get; init; } = "";

    public required string Dseq { get; init; }
}
