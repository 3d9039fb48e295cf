using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>One item of <c>GET /v1/bids</c>: the bid and its bid-deposit escrow (shape: <c>BidResponseSchema</c> in apps/api/src/bid/http-schemas/bid.schema.ts).</summary>
public sealed record AkashBidEntry
{
    public required AkashBid Bid { get; init; }

    [JsonPropertyName("escrow_account")]
    public AkashEscrowAccount? EscrowAccount { get; init; }
}

/// <summary>A provider's bid on one order: its id, state, price per block and the resources it offers.</summary>
public sealed record AkashBid
{
    public required AkashBidId Id { get; init; }

    /// <summary>"open", "active" (won, a lease exists), "lost" or "closed"; only open bids can be leased.</summary>
    public string State { get; init; } = "";

    /// <summary>The price per block in the order's denom.</summary>
    public required AkashCoin Price { get; init; }

    /// <summary>The block height the bid was placed at, as a decimal string (apps/deploy-web's useQuoteExpiry.ts reads it as a height).</summary>
    [JsonPropertyName("created_at")]
    public string CreatedAt { get; init; } = "";

    [JsonPropertyName("resources_offer")]
    public IReadOnlyList<AkashResourceOffer> ResourcesOffer { get; init; } = [];

    /// <summary>Present only on SDL 2.1 bids whose provider offers a reclamation window (AEP-82), as a duration string such as "86400s".</summary>
    [JsonPropertyName("reclamation_window")]
    public string? ReclamationWindow { get; init; }
}

/// <summary>A bid's id: the order it answers (<c>owner</c>, <c>dseq</c>, <c>gseq</c>, <c>oseq</c>), the <c>provider</c>, and <c>bseq</c>.</summary>
public sealed record AkashBidId
{
    public required string Owner { get; init; }

    /// <summary>The deployment sequence, a decimal string (the API's <c>DseqSchema</c> turns it into a string).</summary>
    public required string Dseq { get; init; }

    public required int Gseq { get; init; }

    public required int Oseq { get; init; }

    public required string Provider { get; init; }

    public int Bseq { get; init; }
}
