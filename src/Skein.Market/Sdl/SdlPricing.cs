using System.Globalization;

namespace Skein.Market.Sdl;

/// <summary>The most a deployment can cost: per group and in total, per block, hour and month, in one denomination.</summary>
public sealed record SdlPriceReport(decimal BlockSeconds, IReadOnlyList<SdlPriceLine> Groups, SdlPriceLine Total);

/// <summary>
/// A price ceiling: per block (the sum of price x count of its lines, exact), per hour and per (average) month at the
/// report's block time, and for <c>uact</c> the same in US dollars (1 ACT = 1,000,000 uact, about one dollar).
/// </summary>
public sealed record SdlPriceLine(string Name, string Denom, decimal PerBlock, decimal PerHour, decimal PerMonth, decimal? UsdPerHour, decimal? UsdPerMonth);

/// <summary>Converts an SDL's price ceilings (per instance and block) into what a deployment costs per hour and month.</summary>
public static class SdlPricing
{
    /// <summary>
    /// Akash Console's average block time in seconds (<c>averageBlockTime</c> in
    /// apps/deploy-web/src/utils/priceUtils.ts of akash-network/console): with it, 10,000 uact per block is the
    /// $5.90 an hour Console shows for its FLock training node template.
    /// </summary>
    public const decimal DefaultBlockSeconds = 6.098m;

    /// <summary>Console's average month, 30.437 days (<c>averageDaysInMonth</c>, apps/deploy-web/src/utils/dateUtils.ts).</summary>
    public const decimal DaysPerMonth = 30.437m;

    /// <summary>Micro-units per whole token (uact per ACT, uakt per AKT).</summary>
    public const decimal MicroPerToken = 1_000_000m;

    public static SdlPriceReport Compute(SdlDocument document, decimal blockSeconds = DefaultBlockSeconds)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (blockSeconds <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSeconds), blockSeconds, "block time must be > 0 seconds");
        }
        var groups = document.ToGroups()
            .Select(g => Line(g.Name, g.Resources[0].Price.Denom,
                g.Resources.Sum(r => decimal.Parse(r.Price.Amount, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * r.Count), blockSeconds))
            .ToList();
        // The parser has checked that a deployment is priced in one denomination, as Akash requires.
        var total = Line("total", groups[0].Denom, groups.Sum(g => g.PerBlock), blockSeconds);
        return new SdlPriceReport(blockSeconds, groups, total);
    }

    /// <summary>The same value without trailing zeros in its scale, so that JSON shows 1200000, not 1200000.000000.</summary>
    private static decimal Trim(decimal value) => decimal.Parse(SdlUnits.Normalize(value), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static SdlPriceLine Line(string name, string denom, decimal perBlock, decimal blockSeconds)
    {
        var perHour = decimal.Round(perBlock * 3600m / blockSeconds, 6);
        var perMonth = decimal.Round(perBlock * DaysPerMonth * 86400m / blockSeconds, 6);
        // uakt has no fixed dollar value (AKT is volatile), so only uact gets a dollar estimate.
        decimal? usdHour = denom == "uact" ? Trim(decimal.Round(perHour / MicroPerToken, 4)) : null;
        decimal? usdMonth = denom == "uact" ? Trim(decimal.Round(perMonth / MicroPerToken, 2)) : null;
        return new SdlPriceLine(name, denom, Trim(perBlock), Trim(perHour), Trim(perMonth), usdHour, usdMonth);
    }
}
