using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Market;

/// <summary>The worked example of docs/market.md ("The escrow, worked through"), number for number.</summary>
public sealed class MarketWorkedExampleTests
{
    private static long Blocks(MarketChain m, ulong n) => (long)(m.Rules.BlockIntervalMs * n);

    [Fact]
    public void A_lease_paid_withdrawn_and_run_dry_as_the_docs_say()
    {
        var m = new MarketChain("tenant", "a", "b");
        m.Register("a");
        m.Register("b");
        // 5 SKN = 5,000,000 uact of escrow; a ceiling of 1,000 uact a block.
        m.Deploy("tenant", 1, Tokens.Whole(5), MarketChain.Group(price: "1000"));
        m.Bid("a", "tenant", 1, m.Uact(600));
        m.Bid("b", "tenant", 1, m.Uact(900));
        m.Lease("tenant", 1, "a");
        var h0 = m.State.MarketHeight;
        Assert.Equal(Tokens.Whole(1_000), m.Balance("b"));                          // b's bid deposit came back
        Assert.Equal(8_333UL, m.Deployment("tenant", 1).Escrow.RunwayBlocks);       // 5,000,000 / 600

        // 1,000 blocks later (100 minutes at 6 s a block) the provider withdraws 600,000 uact.
        m.C.NextBlock(Blocks(m, 1_000));
        m.Withdraw("a", "tenant", 1);
        Assert.Equal(h0 + 1_000, m.State.MarketHeight);
        Assert.Equal(m.Uact(600_000), m.LeaseOf("tenant", 1)!.Withdrawn);
        var escrow = m.Deployment("tenant", 1).Escrow;
        Assert.Equal(m.Uact(4_400_000), escrow.Balance);
        Assert.Equal(7_333UL, escrow.RunwayBlocks);                                  // 12.2 hours
        Assert.Equal(h0 + 1_000 + 7_333 + 1, m.State.Market.Deployments.Single().Value.ExhaustAt);

        // Nobody tops up: at market height h0 + 8,334 the escrow cannot pay a whole block; the last 200 uact are paid.
        m.C.NextBlock(Blocks(m, 7_333));
        Assert.Equal(LeaseStatus.Active, m.LeaseOf("tenant", 1)!.Status);
        Assert.Equal(m.Uact(200), m.Deployment("tenant", 1).Escrow.Balance);
        m.C.NextBlock(Blocks(m, 1));
        var lease = m.LeaseOf("tenant", 1)!;
        Assert.Equal(LeaseStatus.InsufficientFunds, lease.Status);
        Assert.Equal(h0 + 8_334, lease.ClosedAt);
        Assert.Equal(Tokens.Whole(5), lease.Paid);                                   // exactly the deposit, never more
        Assert.Equal(Tokens.Whole(1_005), m.Balance("a"));                           // earnings and the bid deposit back
        Assert.True(m.State.SupplyIsConserved());
    }

    [Fact]
    public void Closing_early_pays_the_blocks_and_refunds_the_rest_as_the_docs_say()
    {
        var m = new MarketChain("tenant", "a");
        m.Register("a");
        m.Deploy("tenant", 1, Tokens.Whole(5), MarketChain.Group(price: "1000"));
        m.Bid("a", "tenant", 1, m.Uact(600));
        m.Lease("tenant", 1, "a");
        m.C.NextBlock(Blocks(m, 5_000));
        m.CloseDeployment("tenant", 1);
        Assert.Equal(m.Uact(3_000_000), m.LeaseOf("tenant", 1)!.Paid);
        Assert.Equal(Tokens.Whole(997), m.Balance("tenant"));                        // 1,000 - 5 + 2 refunded
        Assert.Equal(Tokens.Whole(1_003), m.Balance("a"));
    }
}
