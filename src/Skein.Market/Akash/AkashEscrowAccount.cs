using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>The escrow account of a deployment or a bid (shape: <c>escrow_account</c> in apps/api/src/deployment/http-schemas/deployment.schema.ts and bid.schema.ts).</summary>
public sealed record AkashEscrowAccount
{
    public required AkashEscrowAccountId Id { get; init; }

    public required AkashEscrowState State { get; init; }

    /// <summary>What is left in the account in <paramref name="denom"/>, summed over <c>funds</c>; 0 when none.</summary>
    public decimal FundsIn(string denom) => State.Funds.Where(c => c.Denom == denom).Sum(c => c.ParseAmount());
}

/// <summary>An escrow account's id: <c>scope</c> ("deployment" or "bid") and <c>xid</c> (the owner/dseq path of what it pays for).</summary>
public sealed record AkashEscrowAccountId
{
    public string Scope { get; init; } = "";

    public string Xid { get; init; } = "";
}

/// <summary>An escrow account's state as the chain reports it; heights (<c>settled_at</c>, <c>height</c>) are decimal strings.</summary>
public sealed record AkashEscrowState
{
    public string Owner { get; init; } = "";

    /// <summary>"open", "closed" or "overdrawn".</summary>
    public string State { get; init; } = "";

    /// <summary>Paid out to providers so far.</summary>
    public IReadOnlyList<AkashCoin> Transferred { get; init; } = [];

    /// <summary>The block height of the last settlement (lazy: settled when anyone acts on the account).</summary>
    [JsonPropertyName("settled_at")]
    public string SettledAt { get; init; } = "";

    /// <summary>The balance left to pay leases from.</summary>
    public IReadOnlyList<AkashCoin> Funds { get; init; } = [];

    public IReadOnlyList<AkashEscrowDeposit> Deposits { get; init; } = [];
}

/// <summary>One deposit into an escrow account: who paid, at which height, from which <c>source</c> ("balance" or "grant").</summary>
public sealed record AkashEscrowDeposit
{
    public string Owner { get; init; } = "";

    public string Height { get; init; } = "";

    public string Source { get; init; } = "";

    public AkashCoin? Balance { get; init; }
}
