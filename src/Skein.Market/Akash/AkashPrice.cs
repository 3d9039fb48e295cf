using System.Globalization;

namespace Skein.Market.Akash;

/// <summary>A price per block and what it comes to per hour and per average month at an average block time, the way Console shows bids.</summary>
/// <param name="Denom">The price's denom, micro units: <c>uact</c> (1 ACT, about $1) or <c>uakt</c>.</param>
/// <param name="PerBlock">The amount per block in <paramref name="Denom"/>.</param>
/// <param name="AverageBlockTimeSeconds">Seconds per block; Console's own is <see cref="ConsoleAverageBlockTimeSeconds"/>.</param>
public sealed record AkashPrice(string Denom, decimal PerBlock, decimal AverageBlockTimeSeconds)
{
    /// <summary>
    /// The block time Console's web app prices bids with: <c>averageBlockTime = 6.098</c> in
    /// apps/deploy-web/src/utils/priceUtils.ts (<c>perBlockToHourly</c>, <c>getAvgCostPerMonth</c>) of akash-network/console.
    /// Console's API rounds it to 6 (apps/api/src/utils/constants.ts) for its own estimates and auto top-up.
    /// </summary>
    public const decimal ConsoleAverageBlockTimeSeconds = 6.098m;

    /// <summary>Console's average month, <c>averageDaysInMonth = 30.437</c> (apps/deploy-web/src/utils/dateUtils.ts, apps/api/src/utils/constants.ts).</summary>
    public const decimal AverageDaysInMonth = 30.437m;

    private const decimal MicroPerToken = 1_000_000m;

    public decimal PerHour => PerBlock * 3600m / AverageBlockTimeSeconds;

    public decimal PerMonth => PerBlock * AverageDaysInMonth * 86_400m / AverageBlockTimeSeconds;

    /// <summary>The token the micro denom counts: "ACT" for uact, "AKT" for uakt, otherwise the denom itself.</summary>
    public string TokenDenom => Denom switch { "uact" => "ACT", "uakt" => "AKT", _ => Denom };

    public decimal PerHourInTokens => PerHour / MicroPerToken;

    public decimal PerMonthInTokens => PerMonth / MicroPerToken;

    public static AkashPrice FromCoin(AkashCoin coin, decimal averageBlockTimeSeconds)
    {
        ArgumentNullException.ThrowIfNull(coin);
        return new AkashPrice(coin.Denom, coin.ParseAmount(), averageBlockTimeSeconds);
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{PerBlock:0.######} {Denom}/block (~{PerHourInTokens:0.####} {TokenDenom}/h, ~{PerMonthInTokens:0.##} {TokenDenom}/month at {AverageBlockTimeSeconds} s/block)");
}
