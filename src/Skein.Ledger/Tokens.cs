using System.Globalization;
using System.Numerics;

namespace Skein.Ledger;

/// <summary>
/// The ledger's token: amounts are integers of base units (18 decimals, like ether and wei), held as UInt128,
/// so that every rule is exact integer arithmetic and every node computes the same state.
/// </summary>
public static class Tokens
{
    public const int Decimals = 18;

    public const string Symbol = "SKN";

    /// <summary>10^18 base units: one whole token.</summary>
    public static readonly UInt128 One = (UInt128)1_000_000_000_000_000_000UL;

    public static UInt128 Whole(ulong tokens) => checked(tokens * One);

    /// <summary>Parses "12", "12.5" or "0.000000000000000001" (at most 18 decimals) into base units.</summary>
    public static UInt128 Parse(string text, string field = "amount")
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var dot = t.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? t : t[..dot];
        var fraction = dot < 0 ? "" : t[(dot + 1)..];
        if (whole.Length == 0 && fraction.Length == 0 || !whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit))
        {
            throw new FormatException($"{field}: '{text}' is not a non-negative decimal number");
        }
        if (fraction.Length > Decimals)
        {
            throw new FormatException($"{field}: '{text}' has more than {Decimals} decimals");
        }
        var units = BigInteger.Parse((whole.Length == 0 ? "0" : whole) + fraction.PadRight(Decimals, '0'), CultureInfo.InvariantCulture);
        if (units > (BigInteger)UInt128.MaxValue)
        {
            throw new FormatException($"{field}: '{text}' is too large");
        }
        return (UInt128)units;
    }

    /// <summary>Formats base units as a decimal token amount without trailing zeros ("12.5").</summary>
    public static string Format(UInt128 units)
    {
        var whole = units / One;
        var fraction = units % One;
        if (fraction == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        return whole.ToString(CultureInfo.InvariantCulture) + "." + fraction.ToString(CultureInfo.InvariantCulture).PadLeft(Decimals, '0').TrimEnd('0');
    }

    /// <summary>floor(amount * numerator / denominator) without overflow, exact.</summary>
    public static UInt128 MulDiv(UInt128 amount, UInt128 numerator, UInt128 denominator)
    {
        if (denominator == 0)
        {
            throw new DivideByZeroException();
        }
        var product = (BigInteger)amount * numerator / denominator;
        return product > (BigInteger)UInt128.MaxValue ? throw new OverflowException("token arithmetic overflowed 128 bits") : (UInt128)product;
    }
}
