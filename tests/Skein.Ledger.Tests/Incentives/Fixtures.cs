using Skein.Ledger.Incentives;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Addresses and inputs shared by the incentive tests.</summary>
internal static class Fixtures
{
    /// <summary>19 zero bytes then <paramref name="last"/>, as in the worked example (0x…11).</summary>
    public static Address A(byte last) => A(0, last);

    public static Address A(byte first, byte last)
    {
        var bytes = new byte[Address.Length];
        bytes[0] = first;
        bytes[^1] = last;
        return Address.FromBytes(bytes);
    }

    public static UInt128 Tok(ulong whole) => Tokens.Whole(whole);

    public static UInt128 U(string baseUnits) => UInt128.Parse(baseUnits.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);

    public static SettlementInput Input(
        UpdateInfo[] updates,
        ValidatorReveal[] revealed,
        Address[]? unrevealed = null,
        UInt128? reward = null,
        ulong rejectBelow = 500_000,
        IncentiveParams? p = null) =>
        new(updates, revealed, unrevealed ?? [], reward ?? Tok(100), rejectBelow, p ?? IncentiveParams.Default);

    public static UInt128 Sum(IEnumerable<UInt128> values) => values.Aggregate(UInt128.Zero, (a, b) => a + b);
}
