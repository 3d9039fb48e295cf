using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Market.Deploy;

/// <summary>An amount as `skein deploy` and the console take it: tokens ("5") or units of the market's denomination ("5000000uact").</summary>
public static class MarketAmount
{
    /// <summary>The amount in base units; an <see cref="ArgumentException"/> whose message starts with <paramref name="field"/> when it is not one.</summary>
    public static UInt128 Parse(string text, MarketParams rules, string field)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(rules);
        try
        {
            return text.EndsWith(rules.Denom, StringComparison.Ordinal)
                ? rules.ToBaseUnits(new DecCoin(rules.Denom, text[..^rules.Denom.Length]), field)
                : Tokens.Parse(text, field);
        }
        catch (LedgerException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
    }
}
