using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Market;

/// <summary>The market's life cycle on the ledger, with Akash's semantics, block by block.</summary>
public sealed class MarketLifecycleTests
{
    [Fact]
    public void The_tenant_leases_the_cheaper_bid_the_loser_gets_its_deposit_back_and_the_provider_is_paid_price_times_blocks()
    {
        var m = new MarketChain("tenant", "cheap", "dear");
        m.Register("cheap");
        m.Register("dear");
        var supply = m.State.GenesisSupply;
        var deposit = Tokens.Whole(5);
        m.Deploy("tenant", 7, deposit, MarketChain.Group(price: "1000"));
        Assert.Equal(Tokens.Whole(995), m.Balance("tenant"));

        m.Bid("cheap", "tenant", 7, m.Uact(600));
        m.Bid("dear", "tenant", 7, m.Uact(900));
        Assert.Equal(Tokens.Whole(1_000) - m.Rules.BidDeposit, m.Balance("dear"));
        m.Lease("tenant", 7, "cheap");

        var order = m.Deployment("tenant", 7).Groups[0].Orders[0];
        Assert.Equal(OrderStatus.Active, order.Status);
        Assert.Equal(BidStatus.Lost, order.Bids.Single(b => b.Id.Provider == m["dear"]).Status);
        Assert.Equal(Tokens.Whole(1_000), m.Balance("dear"));
        Assert.Equal(Tokens.Whole(1_000) - m.Rules.BidDeposit, m.Balance("cheap"));

        m.Blocks(10);
        m.Withdraw("cheap", "tenant", 7);
        Assert.Equal(Tokens.Whole(1_000) - m.Rules.BidDeposit + (m.Uact(600) * 10), m.Balance("cheap"));
        Assert.Equal(m.Uact(600) * 10, m.LeaseOf("tenant", 7)!.Withdrawn);

        m.Blocks(3);
        m.CloseDeployment("tenant", 7);
        var lease = m.LeaseOf("tenant", 7)!;
        Assert.Equal(LeaseStatus.Closed, lease.Status);
        Assert.Equal("tenant_closed", lease.CloseReason);
        Assert.Equal(m.Uact(600) * 13, lease.Paid);
        // The provider got 13 blocks and its bid deposit back; the tenant got the rest of the escrow back.
        Assert.Equal(Tokens.Whole(1_000) + (m.Uact(600) * 13), m.Balance("cheap"));
        Assert.Equal(Tokens.Whole(1_000) - (m.Uact(600) * 13), m.Balance("tenant"));
        Assert.True(m.State.SupplyIsConserved());
        Assert.Equal(supply, m.State.TotalHeld());
    }

    [Fact]
    public void Lease_closes_with_insufficient_funds_when_escrow_runs_out_and_the_provider_gets_exactly_the_deposit()
    {
        var m = new MarketChain("tenant", "p");
        m.Register("p");
        var deposit = m.Rules.MinDeposit;                  // 0.5 token = 500,000 uact
        var price = m.Uact(150_000);                       // 3 whole blocks, then 50,000 uact left
        m.Deploy("tenant", 1, deposit, MarketChain.Group(price: "200000"));
        m.Bid("p", "tenant", 1, price);
        m.Lease("tenant", 1, "p");
        var start = m.State.MarketHeight;
        Assert.Equal(start + 4, m.State.Market.Deployments.Single().Value.ExhaustAt);

        m.Blocks(3);
        Assert.Equal(LeaseStatus.Active, m.LeaseOf("tenant", 1)!.Status);
        Assert.Equal(m.Uact(50_000), m.Deployment("tenant", 1).Escrow.Balance);
        Assert.Equal(0UL, m.Deployment("tenant", 1).Escrow.RunwayBlocks);

        m.Blocks(1);
        var lease = m.LeaseOf("tenant", 1)!;
        Assert.Equal(LeaseStatus.InsufficientFunds, lease.Status);
        Assert.Equal("insufficient_funds", lease.CloseReason);
        Assert.Equal(deposit, lease.Paid);
        var d = m.Deployment("tenant", 1);
        Assert.Equal(DeploymentStatus.Closed, d.Status);
        Assert.True(d.Escrow.Overdrawn);
        Assert.Equal(UInt128.Zero, d.Escrow.Balance);
        Assert.Equal(Tokens.Whole(1_000) + deposit, m.Balance("p"));
        Assert.Equal(Tokens.Whole(1_000) - deposit, m.Balance("tenant"));
        Assert.True(m.State.SupplyIsConserved());
        Assert.Empty(m.State.Market.Exhaustion);
    }

    [Fact]
    public void A_top_up_moves_the_end_of_the_runway()
    {
        var m = new MarketChain("tenant", "p", "friend");
        m.Register("p");
        m.Deploy("tenant", 1, m.Uact(500_000), MarketChain.Group(price: "100000"));
        m.Bid("p", "tenant", 1, m.Uact(100_000));
        m.Lease("tenant", 1, "p");
        var start = m.State.MarketHeight;
        Assert.Equal(start + 6, m.State.Market.Deployments.Single().Value.ExhaustAt);
        m.Blocks(2);
        m.C.Do("friend", (f, n) => new DepositDeployment { From = f, Nonce = n, Owner = m["tenant"], Dseq = 1, Amount = m.Uact(1_000_000) });
        Assert.Equal(start + 2 + 13 + 1, m.State.Market.Deployments.Single().Value.ExhaustAt);
        Assert.Equal(13UL, m.Deployment("tenant", 1).Escrow.RunwayBlocks);
        m.Blocks(10);
        Assert.Equal(LeaseStatus.Active, m.LeaseOf("tenant", 1)!.Status);
        Assert.True(m.State.SupplyIsConserved());
    }

    [Fact]
    public void An_unanswered_bid_times_out_and_returns_its_deposit()
    {
        var m = new MarketChain("tenant", "p");
        m.Register("p");
        m.Deploy("tenant", 1, Tokens.Whole(1), MarketChain.Group());
        m.Bid("p", "tenant", 1, m.Uact(10));
        m.Blocks((int)m.Rules.BidTimeoutBlocks - 1);
        Assert.Equal(BidStatus.Open, m.Deployment("tenant", 1).Groups[0].Orders[0].Bids[0].Status);
        m.Blocks(1);
        Assert.Equal(BidStatus.Closed, m.Deployment("tenant", 1).Groups[0].Orders[0].Bids[0].Status);
        Assert.Equal(Tokens.Whole(1_000), m.Balance("p"));
        Assert.True(m.State.SupplyIsConserved());
    }

    [Fact]
    public void A_provider_that_drops_its_lease_reopens_the_group_so_the_tenant_can_lease_elsewhere()
    {
        var m = new MarketChain("tenant", "flaky", "steady");
        m.Register("flaky");
        m.Register("steady");
        m.Deploy("tenant", 3, Tokens.Whole(2), MarketChain.Group());
        m.Bid("flaky", "tenant", 3, m.Uact(100));
        m.Lease("tenant", 3, "flaky");
        m.Blocks(2);
        m.C.Do("flaky", (f, n) => new CloseLease { From = f, Nonce = n, Owner = m["tenant"], Dseq = 3, Gseq = 1, Oseq = 1, Provider = f });
        var group = m.Deployment("tenant", 3).Groups[0];
        Assert.Equal("provider_closed", group.Orders[0].Lease!.CloseReason);
        Assert.Equal(m.Uact(200), group.Orders[0].Lease!.Paid);
        Assert.Equal(OrderStatus.Open, group.Orders[1].Status);
        Assert.Equal(2U, group.Orders[1].Id.Oseq);

        m.Bid("steady", "tenant", 3, m.Uact(120), oseq: 2);
        m.Lease("tenant", 3, "steady", oseq: 2);
        m.Blocks(1);
        Assert.Equal(m.Uact(120), m.Deployment("tenant", 3).Groups[0].Orders[1].Lease!.Accrued);
        Assert.True(m.State.SupplyIsConserved());
    }

    [Fact]
    public void Several_groups_share_one_escrow_and_an_overdraft_splits_what_is_left_by_price()
    {
        var m = new MarketChain("tenant", "a", "b");
        m.Register("a");
        m.Register("b");
        m.Deploy("tenant", 9, m.Uact(1_000_000), MarketChain.Group("one", "300000"), MarketChain.Group("two", "300000"));
        m.Bid("a", "tenant", 9, m.Uact(100_000), gseq: 1);
        m.Bid("b", "tenant", 9, m.Uact(300_000), gseq: 2);
        m.Lease("tenant", 9, "a", gseq: 1);
        m.Lease("tenant", 9, "b", gseq: 2);
        // 400,000 uact a block: 2 whole blocks (800,000), then 200,000 left, split 1:3.
        m.Blocks(3);
        var d = m.Deployment("tenant", 9);
        Assert.Equal(DeploymentStatus.Closed, d.Status);
        Assert.Equal(m.Uact(200_000 + 50_000), d.Groups[0].Orders[0].Lease!.Paid);
        Assert.Equal(m.Uact(600_000 + 150_000), d.Groups[1].Orders[0].Lease!.Paid);
        Assert.True(m.State.SupplyIsConserved());
    }

    [Fact]
    public void Placement_attributes_and_auditors_are_enforced_on_bids()
    {
        var m = new MarketChain("tenant", "p", "auditor");
        m.Register("p", new Dictionary<string, string> { ["region"] = "eu" });
        var attributes = new Dictionary<string, string> { ["region"] = "eu" };
        m.Deploy("tenant", 1, Tokens.Whole(1), MarketChain.Group(attributes: attributes, anyOf: [m["auditor"].ToString()]));
        var refused = m.C.Refused(LedgerError.RequirementsNotMet, "p", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = 1, Gseq = 1, Oseq = 1, Price = m.Uact(10) });
        Assert.Contains("signedBy.anyOf", refused.Message, StringComparison.Ordinal);

        m.C.Do("auditor", (f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = m["p"], Attributes = """{"region":"eu"}""" });
        m.Bid("p", "tenant", 1, m.Uact(10));

        m.Deploy("tenant", 2, Tokens.Whole(1), MarketChain.Group(attributes: new Dictionary<string, string> { ["region"] = "us" }));
        refused = m.C.Refused(LedgerError.RequirementsNotMet, "p", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = 2, Gseq = 1, Oseq = 1, Price = m.Uact(10) });
        Assert.Contains("region=us is required and the provider has region=eu", refused.Message, StringComparison.Ordinal);
    }
}
