using CsCheck;
using Skein.Ledger.Market;

namespace Skein.Ledger.Tests.Market;

public sealed class EscrowTests
{
    [Fact]
    public void While_the_balance_covers_it_each_lease_gets_its_price_for_every_block()
    {
        var plan = Escrow.Plan(1_000, 10, [3, 7], 15);
        Assert.Equal([(UInt128)15, 35], plan.Payments);
        Assert.Equal((UInt128)50, plan.Total);
        Assert.Equal((UInt128)950, plan.BalanceAfter);
        Assert.False(plan.Overdrawn);
        Assert.Equal(5UL, plan.Blocks);
    }

    [Fact]
    public void When_it_cannot_the_whole_blocks_are_paid_and_the_rest_split_by_price()
    {
        // rate 10: 4 whole blocks (40), 5 left, split 3:7 -> 1 and 3, the dust (1) to the first lease.
        var plan = Escrow.Plan(45, 0, [3, 7], 9);
        Assert.True(plan.Overdrawn);
        Assert.Equal(4UL, plan.FullBlocks);
        Assert.Equal([(UInt128)(12 + 1 + 1), 28 + 3], plan.Payments);
        Assert.Equal((UInt128)45, plan.Total);
        Assert.Equal(UInt128.Zero, plan.BalanceAfter);
    }

    [Fact]
    public void Nothing_is_owed_for_no_blocks_or_no_leases()
    {
        Assert.Equal(UInt128.Zero, Escrow.Plan(5, 7, [3], 7).Total);
        Assert.Equal(UInt128.Zero, Escrow.Plan(5, 7, [], 100).Total);
        Assert.Null(Escrow.ExhaustAt(5, 7, 0));
        Assert.Equal(7UL + 1 + 1, Escrow.ExhaustAt(5, 7, 3));
    }

    [Fact]
    public void A_provider_is_never_paid_more_than_the_balance_and_exactly_price_times_blocks_while_covered()
    {
        Gen.Select(Gen.ULong[0, 1_000_000_000], Gen.ULong[1, 1_000_000].Array[1, 5], Gen.ULong[0, 10_000]).Sample((balance, prices, blocks) =>
        {
            var p = prices.Select(x => (UInt128)x).ToArray();
            var plan = Escrow.Plan(balance, 100, p, 100 + blocks);
            var sum = plan.Payments.Aggregate(UInt128.Zero, (s, x) => s + x);
            var rate = p.Aggregate(UInt128.Zero, (s, x) => s + x);
            if (sum != plan.Total || sum + plan.BalanceAfter != balance)
            {
                return false;
            }
            if (rate * blocks <= balance)
            {
                return !plan.Overdrawn && plan.Payments.Select((x, i) => x == p[i] * blocks).All(ok => ok);
            }
            // Overdrawn exactly when the first height it cannot pay for has been reached.
            return plan.Overdrawn && plan.BalanceAfter == 0 && 100 + blocks >= Escrow.ExhaustAt(balance, 100, rate);
        }, iter: 2_000);
    }
}
