using System.Globalization;

namespace Skein.Market.Akash;

/// <summary>The bids chosen so far, one per group, and the groups still without one.</summary>
internal sealed record AkashBidChoice(IReadOnlyList<AkashBid> Bids, IReadOnlyList<int> MissingGroups, int OpenBids)
{
    public bool Complete => Bids.Count > 0 && MissingGroups.Count == 0;
}

/// <summary>Picks the cheapest open bid per group, or the named provider's; ties go to the earlier bid, then the provider address.</summary>
internal static class AkashBidSelection
{
    public static AkashBidChoice Choose(IReadOnlyList<AkashBidEntry> entries, int? groupCount, string? provider)
    {
        var open = entries.Select(e => e.Bid).Where(b => b.State == "open").ToList();
        var eligible = open.Where(b => provider is null || b.Id.Provider == provider);
        // The chain makes a bid's denom the order's, so prices within one group compare directly.
        var best = eligible
            .GroupBy(b => b.Id.Gseq)
            .ToDictionary(
                g => g.Key,
                g => g.OrderBy(b => b.Price.ParseAmount()).ThenBy(Height).ThenBy(b => b.Id.Provider, StringComparer.Ordinal).First());
        // Without a readable manifest the expected groups are unknown: take whichever groups have bids.
        var expected = groupCount is { } n ? Enumerable.Range(1, n).ToList() : best.Keys.Order().ToList();
        return new AkashBidChoice(
            expected.Where(best.ContainsKey).Select(g => best[g]).ToList(),
            expected.Where(g => !best.ContainsKey(g)).ToList(),
            open.Count);
    }

    private static long Height(AkashBid bid) =>
        long.TryParse(bid.CreatedAt, NumberStyles.None, CultureInfo.InvariantCulture, out var height) ? height : long.MaxValue;
}
