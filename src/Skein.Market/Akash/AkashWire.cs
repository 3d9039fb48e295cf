using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

// Request bodies and envelopes exactly as the API's zod schemas define them. Most requests are wrapped in
// {"data": ...} like the responses; POST /v1/leases is the exception (CreateLeaseRequestSchema has no wrapper).

/// <summary>The <c>{"data": ...}</c> wrapper every response has.</summary>
internal sealed record AkashEnvelope<T>
{
    public T? Data { get; init; }
}

/// <summary>The error body of apps/api/src/core/services/hono-error-handler/hono-error-handler.service.ts: <c>error</c>, <c>message</c>, <c>code</c>, <c>type</c>.</summary>
internal sealed record AkashErrorBody
{
    public string? Error { get; init; }

    public string? Message { get; init; }

    public string? Code { get; init; }

    public string? Type { get; init; }
}

/// <summary><c>CreateDeploymentRequestSchema</c>: <c>{"data": {"sdl", "deposit"}}</c>.</summary>
internal sealed record CreateDeploymentRequest(CreateDeploymentData Data);

/// <summary>The deposit is in dollars and optional: the API ignores it when managed deposits are on for the account.</summary>
internal sealed record CreateDeploymentData(string Sdl, decimal? Deposit);

/// <summary><c>DepositDeploymentRequestSchema</c>: <c>{"data": {"dseq", "deposit"}}</c>.</summary>
internal sealed record DepositDeploymentRequest(DepositDeploymentData Data);

/// <summary>The dseq and the deposit in dollars.</summary>
internal sealed record DepositDeploymentData(string Dseq, decimal Deposit);

/// <summary><c>CreateLeaseRequestSchema</c> (apps/api/src/deployment/http-schemas/lease.schema.ts): <c>{"manifest", "leases": [...]}</c>, not wrapped.</summary>
internal sealed record CreateLeaseRequest(string Manifest, IReadOnlyList<CreateLeaseTarget> Leases);

/// <summary>One chosen bid: <c>dseq</c>, <c>gseq</c>, <c>oseq</c>, <c>provider</c> (no owner, no bseq).</summary>
internal sealed record CreateLeaseTarget(string Dseq, int Gseq, int Oseq, string Provider);

/// <summary><c>CloseDeploymentResponseSchema</c>'s data: <c>{"success"}</c>.</summary>
internal sealed record CloseDeploymentData(bool Success);

/// <summary><c>UpdateDeploymentSettingRequestSchema</c>: <c>{"data": {"autoTopUpEnabled"}}</c>.</summary>
internal sealed record UpdateDeploymentSettingRequest(UpdateDeploymentSettingData Data);

/// <summary>The one setting that can be changed.</summary>
internal sealed record UpdateDeploymentSettingData(bool AutoTopUpEnabled);

/// <summary><c>CreateDeploymentSettingV2RequestSchema</c>: <c>{"data": {"dseq", "autoTopUpEnabled"}}</c> (userId defaults to the key's user).</summary>
internal sealed record CreateDeploymentSettingRequest(CreateDeploymentSettingData Data);

/// <summary>The dseq and whether auto top-up is on.</summary>
internal sealed record CreateDeploymentSettingData(string Dseq, bool AutoTopUpEnabled);

/// <summary>Source-generated JSON for the Console API: camelCase by default, the snake_case and PascalCase names set per property.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AkashEnvelope<AkashCreatedDeployment>))]
[JsonSerializable(typeof(AkashEnvelope<List<AkashBidEntry>>))]
[JsonSerializable(typeof(AkashEnvelope<AkashDeploymentDetails>))]
[JsonSerializable(typeof(AkashEnvelope<CloseDeploymentData>))]
[JsonSerializable(typeof(AkashEnvelope<AkashDeploymentSetting>))]
[JsonSerializable(typeof(AkashErrorBody))]
[JsonSerializable(typeof(CreateDeploymentRequest))]
[JsonSerializable(typeof(DepositDeploymentRequest))]
[JsonSerializable(typeof(CreateLeaseRequest))]
[JsonSerializable(typeof(UpdateDeploymentSettingRequest))]
[JsonSerializable(typeof(CreateDeploymentSettingRequest))]
internal sealed partial class AkashJsonContext : JsonSerializerContext;
