using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Market.Api;

/// <summary>Converts the ledger's market read models to the wire and back, losslessly (amounts are exact decimals of the denomination).</summary>
public static class MarketApiMapping
{
    public static ApiCoin Coin(MarketParams rules, UInt128 units)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return new ApiCoin(rules.Denom, rules.FromBaseUnits(units));
    }

    public static UInt128 Units(MarketParams rules, ApiCoin coin, string field)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(coin);
        return rules.ToBaseUnits(new DecCoin(coin.Denom, coin.Amount), field);
    }

    public static string State(DeploymentStatus s) => s.ToString().ToLowerInvariant();

    public static string State(OrderStatus s) => s.ToString().ToLowerInvariant();

    public static string State(BidStatus s) => s.ToString().ToLowerInvariant();

    public static string State(LeaseStatus s) => s == LeaseStatus.InsufficientFunds ? "insufficient_funds" : s.ToString().ToLowerInvariant();

    public static ApiBidId ToApi(LeaseId id) => new(id.Owner.ToString(), Dseq(id.Dseq), id.Gseq, id.Oseq, id.Provider.ToString());

    public static LeaseId FromApi(ApiBidId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return new LeaseId(Address.Parse(id.Owner, "id.owner"), ParseDseq(id.Dseq), id.Gseq, id.Oseq, Address.Parse(id.Provider, "id.provider"));
    }

    public static ApiBid ToApi(MarketParams rules, BidInfo b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return new ApiBid(ToApi(b.Id), State(b.Status), Coin(rules, b.Price), b.CreatedAt, Coin(rules, b.DepositHeld));
    }

    public static BidInfo FromApi(MarketParams rules, ApiBid b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return new BidInfo(FromApi(b.Id), Units(rules, b.Price, "price"), b.CreatedAt, Enum.Parse<BidStatus>(b.State, ignoreCase: true), Units(rules, b.Deposit, "deposit"));
    }

    public static ApiLeaseEntry ToApi(MarketParams rules, LeaseInfo l)
    {
        ArgumentNullException.ThrowIfNull(l);
        return new ApiLeaseEntry(
            new ApiLease(ToApi(l.Id), State(l.Status), Coin(rules, l.Price), l.StartedAt, l.ClosedAt, l.CloseReason),
            new ApiLeasePayment(Coin(rules, l.Price), Coin(rules, l.Accrued), Coin(rules, l.Withdrawn)),
            l.Group,
            l.ManifestHash.ToString());
    }

    public static LeaseInfo FromApi(MarketParams rules, ApiLeaseEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var l = e.Lease;
        var status = l.State switch
        {
            "active" => LeaseStatus.Active,
            "insufficient_funds" => LeaseStatus.InsufficientFunds,
            _ => LeaseStatus.Closed,
        };
        return new LeaseInfo(FromApi(l.Id), e.Group, Units(rules, l.Price, "price"), l.CreatedAt, status, l.ClosedOn, l.CloseReason,
            Units(rules, e.EscrowPayment.Balance, "balance"), Units(rules, e.EscrowPayment.Withdrawn, "withdrawn"), Hash32.Parse(e.ManifestHash, "manifest_hash"));
    }

    public static ApiDeploymentEntry ToApi(MarketParams rules, DeploymentInfo d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var e = d.Escrow;
        var escrowState = d.Status == DeploymentStatus.Closed ? (e.Overdrawn ? "overdrawn" : "closed") : e.Overdrawn ? "overdrawn" : "open";
        return new ApiDeploymentEntry(
            new ApiDeployment(new ApiDeploymentId(d.Id.Owner.ToString(), Dseq(d.Id.Dseq)), State(d.Status), d.ManifestHash.ToString(), d.CreatedAt, d.ClosedAt, d.CloseReason),
            d.Groups.Select(g => new ApiGroup(g.Gseq, g.Spec.Name, g.Spec, Coin(rules, g.CeilingPerBlock), g.Orders.Select(o => new ApiOrder(
                new ApiOrderId(o.Id.Owner.ToString(), Dseq(o.Id.Dseq), o.Id.Gseq, o.Id.Oseq), State(o.Status), o.CreatedAt,
                o.Bids.Select(b => ToApi(rules, b)).ToArray(), o.Lease is null ? null : ToApi(rules, o.Lease))).ToArray())).ToArray(),
            new ApiEscrowAccount(escrowState, Coin(rules, e.Balance), Coin(rules, e.Deposited), Coin(rules, e.Transferred), e.SettledAt, Coin(rules, e.RatePerBlock), e.RunwayBlocks));
    }

    public static DeploymentInfo FromApi(MarketParams rules, ApiDeploymentEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var d = entry.Deployment;
        var id = new DeploymentId(Address.Parse(d.Id.Owner, "deployment.id.owner"), ParseDseq(d.Id.Dseq));
        var e = entry.EscrowAccount;
        var escrow = new EscrowInfo(Units(rules, e.Balance, "balance"), Units(rules, e.Deposited, "deposited"), Units(rules, e.Transferred, "transferred"), e.SettledAt,
            e.State == "overdrawn", Units(rules, e.Rate, "rate"), e.RunwayBlocks);
        var groups = entry.Groups.Select(g => new GroupInfo(g.Gseq, g.Spec, Units(rules, g.Ceiling, "ceiling"), g.Orders.Select(o => new OrderInfo(
            new OrderId(id.Owner, id.Dseq, o.Id.Gseq, o.Id.Oseq), g.Name, Enum.Parse<OrderStatus>(o.State, ignoreCase: true), o.CreatedAt, g.Spec, Units(rules, g.Ceiling, "ceiling"),
            o.Bids.Select(b => FromApi(rules, b)).ToArray(), o.Lease is null ? null : FromApi(rules, o.Lease))).ToArray())).ToArray();
        return new DeploymentInfo(id, Hash32.Parse(d.Version, "deployment.version"), Enum.Parse<DeploymentStatus>(d.State, ignoreCase: true), d.CreatedAt, d.ClosedOn, d.CloseReason, escrow, groups);
    }

    public static ApiProvider ToApi(ProviderInfo p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new ApiProvider(p.Owner.ToString(), p.HostUri, p.Attributes, p.Capacity, p.RegisteredAt,
            p.Audits.OrderBy(a => a.Key).Select(a => new ApiAudit(a.Key.ToString(), a.Value)).ToArray());
    }

    public static ProviderInfo FromApi(ApiProvider p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new ProviderInfo(Address.Parse(p.Owner, "owner"), p.HostUri, p.Attributes, p.Capacity, p.RegisteredAt,
            p.Audits.ToDictionary(a => Address.Parse(a.Auditor, "auditor"), a => a.Attributes));
    }

    public static ApiMarketStatus ToApi(ulong chainId, MarketStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var r = s.Params;
        return new ApiMarketStatus(chainId, s.Height, s.MarketHeight, s.Timestamp, r.BlockIntervalMs, r.Denom, r.BaseUnitsPerDenomUnit.ToString(CultureInfo.InvariantCulture),
            Coin(r, r.MinDeposit), Coin(r, r.BidDeposit), r.BidTimeoutBlocks);
    }

    public static MarketStatus FromApi(ApiMarketStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var unit = UInt128.Parse(s.BaseUnitsPerDenomUnit, CultureInfo.InvariantCulture);
        var probe = new MarketParams(s.Denom, unit, s.BlockIntervalMs, 1, 0, s.BidTimeoutBlocks);
        var rules = probe with { MinDeposit = Units(probe, s.MinDeposit, "min_deposit"), BidDeposit = Units(probe, s.BidDeposit, "bid_deposit") };
        return new MarketStatus(s.Height, s.MarketHeight, s.Timestamp, rules);
    }

    public static string Dseq(ulong dseq) => dseq.ToString(CultureInfo.InvariantCulture);

    public static ulong ParseDseq(string text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"dseq: '{text}' is not a positive integer");
}
