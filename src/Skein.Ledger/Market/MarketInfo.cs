namespace Skein.Ledger.Market;

/// <summary>The market's clock and rules: the head block's height and time, its market height (blocks leases pay by), and the parameters.</summary>
public sealed record MarketStatus(ulong Height, ulong MarketHeight, long Timestamp, MarketParams Params);

/// <summary>A registered provider as the ledger records it, with the attributes each auditor signed for it.</summary>
public sealed record ProviderInfo(Address Owner, string HostUri, IReadOnlyDictionary<string, string> Attributes, ProviderCapacity Capacity, ulong RegisteredAt,
    IReadOnlyDictionary<Address, IReadOnlyDictionary<string, string>> Audits);

/// <summary>A bid: its id (the order and the provider), price per block in base units, status and held deposit.</summary>
public sealed record BidInfo(LeaseId Id, UInt128 Price, ulong CreatedAt, BidStatus Status, UInt128 DepositHeld);

/// <summary>A lease with what it has been paid: <see cref="Accrued"/> settled to it and not yet withdrawn, <see cref="Withdrawn"/> moved to the provider.</summary>
public sealed record LeaseInfo(LeaseId Id, string Group, UInt128 Price, ulong StartedAt, LeaseStatus Status, ulong? ClosedAt, string? CloseReason,
    UInt128 Accrued, UInt128 Withdrawn, Hash32 ManifestHash)
{
    public UInt128 Paid => Accrued + Withdrawn;
}

/// <summary>An order with its bids and, once leased, its lease.</summary>
public sealed record OrderInfo(OrderId Id, string Group, OrderStatus Status, ulong CreatedAt, GroupSpec Spec, UInt128 CeilingPerBlock, IReadOnlyList<BidInfo> Bids, LeaseInfo? Lease);

/// <summary>A group of a deployment with every order it had (a new one each time a provider dropped its lease).</summary>
public sealed record GroupInfo(uint Gseq, GroupSpec Spec, UInt128 CeilingPerBlock, IReadOnlyList<OrderInfo> Orders);

/// <summary>
/// A deployment's escrow as settled at the head block: balance, totals, the rate its active leases pay per block and
/// how many more whole blocks the balance pays (the runway; null when no lease is active).
/// </summary>
public sealed record EscrowInfo(UInt128 Balance, UInt128 Deposited, UInt128 Transferred, ulong SettledAt, bool Overdrawn, UInt128 RatePerBlock, ulong? RunwayBlocks);

/// <summary>A deployment as the ledger records it, settled to the head block.</summary>
public sealed record DeploymentInfo(DeploymentId Id, Hash32 ManifestHash, DeploymentStatus Status, ulong CreatedAt, ulong? ClosedAt, string? CloseReason,
    EscrowInfo Escrow, IReadOnlyList<GroupInfo> Groups)
{
    public IEnumerable<LeaseInfo> Leases => Groups.SelectMany(g => g.Orders).Select(o => o.Lease).OfType<LeaseInfo>();
}

/// <summary>Which deployments to list: of one owner, with a lease of one provider, or only active ones.</summary>
public sealed record DeploymentQuery(Address? Owner = null, Address? Provider = null, bool ActiveOnly = false);

/// <summary>Which leases to list: of one owner, of one provider, or only active ones.</summary>
public sealed record LeaseQuery(Address? Owner = null, Address? Provider = null, bool ActiveOnly = false);

/// <summary>Read models of the market over a ledger state; escrow and lease earnings are shown as settled at the state's market height, without changing it.</summary>
public static class MarketQueries
{
    public static MarketStatus Status(State.LedgerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new MarketStatus(state.Height, state.MarketHeight, state.BlockTimestamp, state.Params.MarketRules);
    }

    public static ProviderInfo? Provider(State.LedgerState state, Address owner)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Market.Providers.TryGetValue(owner, out var p) ? ToInfo(state.Market, p) : null;
    }

    public static IReadOnlyList<ProviderInfo> Providers(State.LedgerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Market.Providers.Values.Select(p => ToInfo(state.Market, p)).ToArray();
    }

    public static DeploymentInfo? Deployment(State.LedgerState state, DeploymentId id)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Market.Deployments.TryGetValue(id, out var d) ? ToInfo(state, d) : null;
    }

    public static IReadOnlyList<DeploymentInfo> Deployments(State.LedgerState state, DeploymentQuery query)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(query);
        return state.Market.Deployments.Values
            .Where(d => query.Owner is not { } owner || d.Id.Owner == owner)
            .Where(d => !query.ActiveOnly || d.Status == DeploymentStatus.Active)
            .Where(d => query.Provider is not { } provider || d.Groups.Any(g => g.Orders.Any(o => o.Lease?.Provider == provider)))
            .Select(d => ToInfo(state, d)).ToArray();
    }

    public static IReadOnlyList<OrderInfo> OpenOrders(State.LedgerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Market.Deployments.Values.Where(d => d.Status == DeploymentStatus.Active)
            .SelectMany(d => ToInfo(state, d).Groups.SelectMany(g => g.Orders).Where(o => o.Status == OrderStatus.Open)).ToArray();
    }

    public static IReadOnlyList<LeaseInfo> Leases(State.LedgerState state, LeaseQuery query)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(query);
        return state.Market.Deployments.Values
            .Where(d => query.Owner is not { } owner || d.Id.Owner == owner)
            .Where(d => query.Provider is not { } p || d.Groups.Any(g => g.Orders.Any(o => o.Lease?.Provider == p)))
            .SelectMany(d => ToInfo(state, d).Leases)
            .Where(l => query.Provider is not { } provider || l.Id.Provider == provider)
            .Where(l => !query.ActiveOnly || l.Status == LeaseStatus.Active).ToArray();
    }

    private static ProviderInfo ToInfo(MarketState market, ProviderState p) =>
        new(p.Owner, p.HostUri, new SortedDictionary<string, string>(p.Attributes, StringComparer.Ordinal), p.Capacity, p.RegisteredAt, MarketRules.AuditsOf(market, p.Owner));

    private static DeploymentInfo ToInfo(State.LedgerState state, DeploymentState d) => ToInfo(state.MarketHeight, d);

    /// <summary>A deployment's read model at <paramref name="marketHeight"/> (also what the EVM backend builds from the contract's storage).</summary>
    public static DeploymentInfo ToInfo(ulong marketHeight, DeploymentState d)
    {
        ArgumentNullException.ThrowIfNull(d);
        // The view settles the escrow to the head's market height on copies, so balances and earnings are current.
        var active = d.ActiveLeases().ToArray();
        var plan = d.Status == DeploymentStatus.Active
            ? Escrow.Plan(d.Escrow.Balance, d.Escrow.SettledAt, active.Select(l => l.Lease.Price).ToArray(), marketHeight)
            : null;
        var pending = new Dictionary<LeaseState, UInt128>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < active.Length; i++)
        {
            pending[active[i].Lease] = plan!.Payments[i];
        }
        var rate = active.Aggregate(UInt128.Zero, (s, l) => s + l.Lease.Price);
        var balance = plan?.BalanceAfter ?? d.Escrow.Balance;
        var escrow = new EscrowInfo(balance, d.Escrow.Deposited, d.Escrow.Transferred + (plan?.Total ?? 0), Math.Max(d.Escrow.SettledAt, plan is null ? 0 : marketHeight),
            d.Escrow.Overdrawn || (plan?.Overdrawn ?? false), rate, Escrow.RunwayBlocks(balance, rate));
        var groups = d.Groups.Select(g => new GroupInfo(g.Gseq, g.Spec, g.CeilingPerBlock, g.Orders.Select(o =>
        {
            var id = new OrderId(d.Id.Owner, d.Id.Dseq, g.Gseq, o.Oseq);
            var bids = o.Bids.Values.Select(b => new BidInfo(new LeaseId(id.Owner, id.Dseq, id.Gseq, id.Oseq, b.Provider), b.Price, b.CreatedAt, b.Status, b.DepositHeld)).ToArray();
            LeaseInfo? lease = o.Lease is { } l
                ? new LeaseInfo(new LeaseId(id.Owner, id.Dseq, id.Gseq, id.Oseq, l.Provider), g.Spec.Name, l.Price, l.StartedAt, l.Status, l.ClosedAt, l.CloseReason,
                    l.Accrued + pending.GetValueOrDefault(l), l.Withdrawn, d.ManifestHash)
                : null;
            return new OrderInfo(id, g.Spec.Name, o.Status, o.CreatedAt, g.Spec, g.CeilingPerBlock, bids, lease);
        }).ToArray())).ToArray();
        return new DeploymentInfo(d.Id, d.ManifestHash, d.Status, d.CreatedAt, d.ClosedAt, d.CloseReason, escrow, groups);
    }
}
