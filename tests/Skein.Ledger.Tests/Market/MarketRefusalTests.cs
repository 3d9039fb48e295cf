using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Market;

/// <summary>Every refusal of the market, provoked, with its code, its message naming the rule, and nothing changed.</summary>
public sealed class MarketRefusalTests
{
    private static MarketChain Leased(out ulong dseq)
    {
        var m = new MarketChain("tenant", "p", "q", "mallory", "unregistered");
        m.Register("p");
        m.Register("q");
        dseq = 5;
        m.Deploy("tenant", dseq, Tokens.Whole(2), MarketChain.Group(price: "1000"));
        m.Bid("p", "tenant", dseq, m.Uact(500));
        m.Lease("tenant", dseq, "p");
        return m;
    }

    [Fact]
    public void A_bid_on_a_leased_or_closed_order_is_refused()
    {
        var m = Leased(out var dseq);
        var ex = m.C.Refused(LedgerError.OrderNotOpen, "q", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq, Gseq = 1, Oseq = 1, Price = m.Uact(400) });
        Assert.Contains("is active, it takes no bids", ex.Message, StringComparison.Ordinal);
        m.CloseDeployment("tenant", dseq);
        ex = m.C.Refused(LedgerError.DeploymentClosed, "q", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq, Gseq = 1, Oseq = 1, Price = m.Uact(400) });
        Assert.Contains("is closed (tenant_closed)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bid_above_the_ceiling_is_refused_and_names_both_prices()
    {
        var m = new MarketChain("tenant", "p");
        m.Register("p");
        m.Deploy("tenant", 1, Tokens.Whole(1), MarketChain.Group(price: "1000", count: 2));
        var ex = m.C.Refused(LedgerError.BidAboveCeiling, "p", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = 1, Gseq = 1, Oseq = 1, Price = m.Uact(2_001) });
        Assert.Contains("2001 uact per block is above the group's ceiling of 2000 uact", ex.Message, StringComparison.Ordinal);
        m.Bid("p", "tenant", 1, m.Uact(2_000));
    }

    [Fact]
    public void A_lease_on_someone_elses_deployment_is_refused()
    {
        var m = new MarketChain("tenant", "p", "mallory");
        m.Register("p");
        m.Deploy("tenant", 1, Tokens.Whole(1), MarketChain.Group());
        m.Bid("p", "tenant", 1, m.Uact(10));
        var ex = m.C.Refused(LedgerError.NotOwner, "mallory", (f, n) => new CreateLease { From = f, Nonce = n, Owner = m["tenant"], Dseq = 1, Gseq = 1, Oseq = 1, Provider = m["p"] });
        Assert.Contains("only its owner", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_withdrawal_from_someone_elses_lease_is_refused()
    {
        var m = Leased(out var dseq);
        m.Blocks(2);
        var ex = m.C.Refused(LedgerError.NotProvider, "q", (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq, Gseq = 1, Oseq = 1 });
        Assert.Contains("only it may withdraw", ex.Message, StringComparison.Ordinal);
        m.C.Refused(LedgerError.NotProvider, "tenant", (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq, Gseq = 1, Oseq = 1 });
    }

    [Fact]
    public void A_deposit_above_the_balance_is_refused()
    {
        var m = Leased(out var dseq);
        var ex = m.C.Refused(LedgerError.InsufficientBalance, "tenant", (f, n) => new DepositDeployment { From = f, Nonce = n, Owner = f, Dseq = dseq, Amount = Tokens.Whole(5_000) });
        Assert.Contains("the deposit needs 5000", ex.Message, StringComparison.Ordinal);
        m.C.Refused(LedgerError.InsufficientBalance, "tenant", m.DeployTx(6, Tokens.Whole(5_000), MarketChain.Group()));
    }

    [Fact]
    public void A_bid_from_an_unregistered_provider_is_refused()
    {
        var m = Leased(out _);
        m.Deploy("tenant", 8, Tokens.Whole(1), MarketChain.Group());
        var ex = m.C.Refused(LedgerError.UnknownProvider, "unregistered", (f, n) => new CreateBid { From = f, Nonce = n, Owner = m["tenant"], Dseq = 8, Gseq = 1, Oseq = 1, Price = m.Uact(1) });
        Assert.Contains("is not a registered provider", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_price_in_another_denomination_is_refused()
    {
        var m = new MarketChain("tenant");
        var ex = m.C.Refused(LedgerError.WrongDenom, "tenant", m.DeployTx(1, Tokens.Whole(1), MarketChain.Group(denom: "uakt")));
        Assert.Contains("groups[0].resources[0].price.denom: this market settles in uact, got 'uakt'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", LedgerError.InvalidAmount, "price.amount: must be > 0")]
    [InlineData("-3", LedgerError.InvalidAmount, "is not a non-negative decimal number")]
    [InlineData("0.0000000000001", LedgerError.InvalidAmount, "has more than 12 decimals")]
    public void Bad_prices_are_refused(string price, LedgerError code, string message)
    {
        var m = new MarketChain("tenant");
        var ex = m.C.Refused(code, "tenant", m.DeployTx(1, Tokens.Whole(1), MarketChain.Group(price: price)));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_rules_are_checked_before_anything_changes()
    {
        var m = new MarketChain("tenant");
        m.C.Refused(LedgerError.DepositTooSmall, "tenant", m.DeployTx(1, m.Rules.MinDeposit - 1, MarketChain.Group()));
        m.C.Refused(LedgerError.InvalidParameter, "tenant", m.DeployTx(0, Tokens.Whole(1), MarketChain.Group()));
        m.C.Refused(LedgerError.InvalidParameter, "tenant", m.DeployTx(1, Tokens.Whole(1)));
        m.C.Refused(LedgerError.InvalidParameter, "tenant", m.DeployTx(1, Tokens.Whole(1), MarketChain.Group(), MarketChain.Group()));
        var ex = m.C.Refused(LedgerError.InvalidParameter, "tenant", m.DeployTx(1, Tokens.Whole(1), MarketChain.Group(anyOf: ["akash1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqxyz"])));
        Assert.Contains("akash1 addresses are for Akash Network", ex.Message, StringComparison.Ordinal);
        m.C.Refused(LedgerError.InvalidParameter, "tenant", (f, n) => new CreateDeployment { From = f, Nonce = n, Dseq = 1, ManifestHash = Hash32.Zero, Groups = GroupSpec.ToCanonicalJson([MarketChain.Group()]), Deposit = Tokens.Whole(1) });
        m.C.Refused(LedgerError.InvalidParameter, "tenant", (f, n) => new CreateDeployment { From = f, Nonce = n, Dseq = 1, ManifestHash = MarketChain.Sample(1), Groups = "[{\"name\":1}]", Deposit = Tokens.Whole(1) });
        m.Deploy("tenant", 1, Tokens.Whole(1), MarketChain.Group());
        m.C.Refused(LedgerError.DeploymentExists, "tenant", m.DeployTx(1, Tokens.Whole(1), MarketChain.Group()));
    }

    [Fact]
    public void Closing_needs_the_owner_and_an_active_lease_or_deployment()
    {
        var m = Leased(out var dseq);
        m.C.Refused(LedgerError.NotOwner, "mallory", (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq });
        m.C.Refused(LedgerError.NotOwner, "mallory", (f, n) => new CloseLease { From = f, Nonce = n, Owner = m["tenant"], Dseq = dseq, Gseq = 1, Oseq = 1, Provider = m["p"] });
        m.C.Refused(LedgerError.UnknownLease, "tenant", (f, n) => new CloseLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = 1, Oseq = 1, Provider = m["q"] });
        m.C.Refused(LedgerError.UnknownOrder, "tenant", (f, n) => new CloseLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = 2, Oseq = 1, Provider = m["p"] });
        m.C.Do("tenant", (f, n) => new CloseLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = 1, Oseq = 1, Provider = m["p"] });
        m.C.Refused(LedgerError.LeaseNotActive, "tenant", (f, n) => new CloseLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = 1, Oseq = 1, Provider = m["p"] });
        m.C.Refused(LedgerError.UnknownDeployment, "tenant", (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = 99 });
    }

    [Fact]
    public void Provider_records_are_checked()
    {
        var m = new MarketChain("p", "auditor");
        m.C.Refused(LedgerError.InvalidParameter, "p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "ftp://x", Attributes = "{}", Capacity = MarketChain.CapacityJson });
        m.C.Refused(LedgerError.InvalidParameter, "p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "http://127.0.0.1:1/", Attributes = "[1]", Capacity = MarketChain.CapacityJson });
        m.C.Refused(LedgerError.InvalidParameter, "p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "http://127.0.0.1:1/", Attributes = """{"1bad":"x"}""", Capacity = MarketChain.CapacityJson });
        m.C.Refused(LedgerError.InvalidParameter, "p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "http://127.0.0.1:1/", Attributes = "{}", Capacity = "{}" });
        m.C.Refused(LedgerError.UnknownProvider, "auditor", (f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = m["p"], Attributes = """{"region":"eu"}""" });
    }
}
