using System.Globalization;

namespace Skein.Market.Akash;

/// <summary>A chain coin as the Console API relays it: <c>{denom, amount}</c> (shape: apps/api/src/bid/http-schemas/bid.schema.ts, <c>price</c>).</summary>
/// <remarks>
/// The amount stays a string on the wire: the chain writes prices as 18-place decimal strings
/// ("1000.000000000000000000"), which a JSON number would round. <see cref="ParseAmount"/> reads it when needed.
/// </remarks>
public sealed record AkashCoin
{
    /// <summary>The denomination: <c>uact</c> or <c>uakt</c> for prices and escrow (micro units, 1,000,000 to a token).</summary>
    public required string Denom { get; init; }

    public required string Amount { get; init; }

    /// <summary>The amount as a decimal; decimal keeps 28 significant digits, enough for any per-block price or escrow.</summary>
    public decimal ParseAmount() =>
        decimal.Parse(Amount, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
