using System.Globalization;
using System.Numerics;

namespace Skein.Ledger.Market;

/// <summary>
/// The compute market's rules, fixed at genesis: the denomination prices are quoted in and its worth in base units,
/// the block interval leases are paid by, and the deposits and timeouts of Akash's market.
/// </summary>
/// <param name="Denom">The only denomination the market takes (Akash's <c>uact</c> by default; SDL prices must use it).</param>
/// <param name="BaseUnitsPerDenomUnit">Base units of the ledger token one denomination unit is worth (1 uact = 10^12 base units = one millionth of a token).</param>
/// <param name="BlockIntervalMs">The market block: leases pay their price once per interval of ledger time (Akash: about 6 s).</param>
/// <param name="MinDeposit">The smallest escrow deposit a deployment may open with (Akash: 0.5 ACT).</param>
/// <param name="BidDeposit">Held from a provider's balance per open bid or active lease, returned when it closes.</param>
/// <param name="BidTimeoutBlocks">Market blocks after which an unanswered bid closes by itself (Akash: 5 minutes).</param>
public sealed record MarketParams(string Denom, UInt128 BaseUnitsPerDenomUnit, ulong BlockIntervalMs, UInt128 MinDeposit, UInt128 BidDeposit, ulong BidTimeoutBlocks)
{
    public static MarketParams Default { get; } = new("uact", 1_000_000_000_000UL, 6_000, Tokens.One / 2, Tokens.One / 2, 50);

    /// <summary>Null when usable, else the first problem, naming the field.</summary>
    public string? Validate()
    {
        if (Denom is not ("uact" or "uakt"))
        {
            return $"params.market.denom: must be uact or uakt (Akash's denominations), got '{Denom}'";
        }
        if (BaseUnitsPerDenomUnit == 0 || !IsPowerOfTen(BaseUnitsPerDenomUnit))
        {
            return $"params.market.base_units_per_denom_unit: must be a power of ten >= 1, got {BaseUnitsPerDenomUnit}";
        }
        if (BlockIntervalMs is < 10 or > 3_600_000)
        {
            return $"params.market.block_interval_ms: must be in [10, 3600000], got {BlockIntervalMs}";
        }
        if (MinDeposit == 0)
        {
            return "params.market.min_deposit: must be > 0";
        }
        return BidTimeoutBlocks == 0 ? "params.market.bid_timeout_blocks: must be >= 1" : null;
    }

    /// <summary>
    /// A price or amount in the market's denomination (a decimal such as <c>"1000"</c> or <c>"0.25"</c> uact) in base
    /// units, exactly; refused when the denomination is another or the amount has more decimals than base units allow.
    /// </summary>
    public UInt128 ToBaseUnits(DecCoin coin, string field)
    {
        ArgumentNullException.ThrowIfNull(coin);
        if (!string.Equals(coin.Denom, Denom, StringComparison.Ordinal))
        {
            throw new LedgerException(LedgerError.WrongDenom, $"{field}.denom: this market settles in {Denom}, got '{coin.Denom}'");
        }
        var text = coin.Amount.Trim();
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? "" : text[(dot + 1)..].TrimEnd('0');
        var decimals = (int)Math.Round(Math.Log10((double)BaseUnitsPerDenomUnit));
        if (whole.Length == 0 || !whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit))
        {
            throw new LedgerException(LedgerError.InvalidAmount, $"{field}.amount: '{coin.Amount}' is not a non-negative decimal number");
        }
        if (fraction.Length > decimals)
        {
            throw new LedgerException(LedgerError.InvalidAmount, $"{field}.amount: '{coin.Amount}' has more than {decimals} decimals, finer than one base unit");
        }
        var units = BigInteger.Parse(whole + fraction.PadRight(decimals, '0'), CultureInfo.InvariantCulture);
        return units > (BigInteger)UInt128.MaxValue
            ? throw new LedgerException(LedgerError.InvalidAmount, $"{field}.amount: '{coin.Amount}' is too large")
            : (UInt128)units;
    }

    /// <summary>Base units as a decimal amount of the denomination, without trailing zeros.</summary>
    public string FromBaseUnits(UInt128 units)
    {
        var whole = units / BaseUnitsPerDenomUnit;
        var fraction = units % BaseUnitsPerDenomUnit;
        if (fraction == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        var decimals = (int)Math.Round(Math.Log10((double)BaseUnitsPerDenomUnit));
        return whole.ToString(CultureInfo.InvariantCulture) + "." + fraction.ToString(CultureInfo.InvariantCulture).PadLeft(decimals, '0').TrimEnd('0');
    }

    /// <summary>The market height of a block: whole block intervals of ledger time since genesis.</summary>
    public ulong MarketHeight(long blockTimestampMs, long genesisTimestampMs) =>
        blockTimestampMs <= genesisTimestampMs ? 0 : (ulong)(blockTimestampMs - genesisTimestampMs) / BlockIntervalMs;

    private static bool IsPowerOfTen(UInt128 value)
    {
        while (value % 10 == 0 && value > 1)
        {
            value /= 10;
        }
        return value == 1;
    }
}
