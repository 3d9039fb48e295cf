namespace Skein.Ledger.Market;

/// <summary>
/// One settlement of an escrow account up to a market height: what each lease is paid, what is left, and whether
/// the account ran dry (then everything left was paid out and <see cref="Overdrawn"/> is set).
/// </summary>
public sealed record EscrowSettlement(IReadOnlyList<UInt128> Payments, UInt128 Total, UInt128 BalanceAfter, ulong Blocks, ulong FullBlocks, bool Overdrawn);

/// <summary>
/// The escrow arithmetic, as Akash settles it: lazily, when anyone acts on the account, each active lease is owed
/// its price for every block since the last settlement. When the balance cannot cover that, every lease gets its
/// price for the whole blocks the balance covers, the remainder is split in proportion to the prices (the
/// rounding dust to the first lease), and the account is overdrawn: a provider is never paid more than was
/// deposited. Integers only; docs/market.md has a worked example that a test reproduces.
/// </summary>
public static class Escrow
{
    public static EscrowSettlement Plan(UInt128 balance, ulong settledAt, IReadOnlyList<UInt128> prices, ulong height)
    {
        ArgumentNullException.ThrowIfNull(prices);
        var blocks = height > settledAt ? height - settledAt : 0;
        UInt128 rate = 0;
        foreach (var p in prices)
        {
            rate = checked(rate + p);
        }
        var payments = new UInt128[prices.Count];
        if (blocks == 0 || rate == 0)
        {
            return new EscrowSettlement(payments, 0, balance, blocks, blocks, false);
        }
        var affordable = balance / rate;
        if (blocks <= affordable)
        {
            // rate x blocks <= balance, so no product below can overflow.
            for (var i = 0; i < payments.Length; i++)
            {
                payments[i] = prices[i] * blocks;
            }
            var total = rate * blocks;
            return new EscrowSettlement(payments, total, balance - total, blocks, blocks, false);
        }
        var full = (ulong)affordable;
        var remainder = balance - rate * full;
        UInt128 shared = 0;
        for (var i = 0; i < payments.Length; i++)
        {
            var share = Tokens.MulDiv(remainder, prices[i], rate);
            payments[i] = prices[i] * full + share;
            shared += share;
        }
        if (payments.Length > 0)
        {
            payments[0] += remainder - shared;
        }
        return new EscrowSettlement(payments, balance, 0, blocks, full, true);
    }

    /// <summary>The first market height at which the account cannot pay <paramref name="rate"/> per block any more; null when nothing is owed.</summary>
    public static ulong? ExhaustAt(UInt128 balance, ulong settledAt, UInt128 rate)
    {
        if (rate == 0)
        {
            return null;
        }
        var blocks = balance / rate;
        var room = (UInt128)(ulong.MaxValue - settledAt - 1);
        return settledAt + (ulong)(blocks < room ? blocks : room) + 1;
    }

    /// <summary>Whole market blocks the balance still pays at <paramref name="rate"/>; null when nothing is owed.</summary>
    public static ulong? RunwayBlocks(UInt128 balance, UInt128 rate) =>
        rate == 0 ? null : (ulong)UInt128.Min(balance / rate, ulong.MaxValue);
}
