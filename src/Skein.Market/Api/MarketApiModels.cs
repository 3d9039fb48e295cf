using System.Text.Json;
using System.Text.Json.Serialization;
using Skein.Core.Json;
using Skein.Ledger.Market;

namespace Skein.Market.Api;

/// <summary>An amount in the market's denomination, as Akash writes coins: <c>{"denom":"uact","amount":"1000.5"}</c>.</summary>
public sealed record ApiCoin(string Denom, string Amount);

/// <summary>A deployment's id on the wire (dseq as a string, as Akash's REST API writes uint64s).</summary>
public sealed record ApiDeploymentId(string Owner, string Dseq);

/// <summary>An order's id on the wire.</summary>
public sealed record ApiOrderId(string Owner, string Dseq, uint Gseq, uint Oseq);

/// <summary>A bid's or lease's id on the wire: Akash's five parts.</summary>
public sealed record ApiBidId(string Owner, string Dseq, uint Gseq, uint Oseq, string Provider);

/// <summary>A bid as Akash's market module shows it, with the deposit it holds.</summary>
public sealed record ApiBid(ApiBidId Id, string State, ApiCoin Price, ulong CreatedAt, ApiCoin Deposit);

/// <summary>A bid entry of <c>GET /v1/bids</c>: Akash wraps each bid as <c>{"bid": ...}</c>.</summary>
public sealed record ApiBidEntry(ApiBid Bid);

/// <summary>A lease as Akash's market module shows it (state active, closed or insufficient_funds; closed_on in market blocks).</summary>
public sealed record ApiLease(ApiBidId Id, string State, ApiCoin Price, ulong CreatedAt, ulong? ClosedOn, string? CloseReason);

/// <summary>What a lease has been paid: its rate, what is settled to it and not withdrawn (balance), and what was withdrawn.</summary>
public sealed record ApiLeasePayment(ApiCoin Rate, ApiCoin Balance, ApiCoin Withdrawn);

/// <summary>A lease entry of <c>GET /v1/leases</c>: the lease, its escrow payment, its group's name and its deployment's manifest hash.</summary>
public sealed record ApiLeaseEntry(ApiLease Lease, ApiLeasePayment EscrowPayment, string Group, string ManifestHash);

/// <summary>An order with its bids and lease.</summary>
public sealed record ApiOrder(ApiOrderId Id, string State, ulong CreatedAt, IReadOnlyList<ApiBid> Bids, ApiLeaseEntry? Lease);

/// <summary>A group: its spec, ceiling per block and orders.</summary>
public sealed record ApiGroup(uint Gseq, string Name, GroupSpec Spec, ApiCoin Ceiling, IReadOnlyList<ApiOrder> Orders);

/// <summary>A deployment (its version is the manifest's SHA-256).</summary>
public sealed record ApiDeployment(ApiDeploymentId Id, string State, string Version, ulong CreatedAt, ulong? ClosedOn, string? CloseReason);

/// <summary>A deployment's escrow account, settled to the head block: state open, overdrawn or closed; runway in market blocks.</summary>
public sealed record ApiEscrowAccount(string State, ApiCoin Balance, ApiCoin Deposited, ApiCoin Transferred, ulong SettledAt, ApiCoin Rate, ulong? RunwayBlocks);

/// <summary>A deployment entry: as Akash's <c>deployment/info</c> nests it, with its groups and escrow account.</summary>
public sealed record ApiDeploymentEntry(ApiDeployment Deployment, IReadOnlyList<ApiGroup> Groups, ApiEscrowAccount EscrowAccount);

/// <summary>Attributes an auditor signed for a provider.</summary>
public sealed record ApiAudit(string Auditor, IReadOnlyDictionary<string, string> Attributes);

/// <summary>A provider: its endpoint, attributes, declared capacity and audits.</summary>
public sealed record ApiProvider(string Owner, string HostUri, IReadOnlyDictionary<string, string> Attributes, ProviderCapacity Capacity, ulong RegisteredAt, IReadOnlyList<ApiAudit> Audits);

/// <summary>The market's clock and rules (<c>GET /v1/market</c>).</summary>
public sealed record ApiMarketStatus(ulong ChainId, ulong Height, ulong MarketHeight, long Timestamp, ulong BlockIntervalMs, string Denom, string BaseUnitsPerDenomUnit,
    ApiCoin MinDeposit, ApiCoin BidDeposit, ulong BidTimeoutBlocks);

/// <summary>An account: its next nonce and balance (in tokens, and in the market's denomination).</summary>
public sealed record ApiAccount(string Address, ulong Nonce, string Balance, ApiCoin BalanceDenom);

/// <summary>Where a submitted transaction landed.</summary>
public sealed record ApiTxResult(string Id, ulong Height);

/// <summary>The envelope of every successful response, as Akash Console's API wraps them.</summary>
public sealed record ApiEnvelope<T>(T Data);

/// <summary>The body of every error, as Akash Console's API writes them: a stable code and a message naming the rule.</summary>
public sealed record ApiError(string Error, string Message);

/// <summary>The JSON conventions of the market API: snake_case, nulls written, NaN and infinities as null.</summary>
public static class MarketJson
{
    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    }.WithNonFiniteAsNull();
}
