using System.Text.Json;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Market;

/// <summary>
/// The market on the ledger, with Akash's semantics: providers and auditors, deployments with one order per group,
/// bids with deposits, leases paid per market block from the deployment's escrow (settled lazily, closed when it
/// runs dry), withdrawals, top-ups and closing. As everywhere in the state machine, every check of a transaction
/// runs before its first change, and the arithmetic is integer.
/// </summary>
internal static partial class MarketRules
{
    private const int MaxGroups = 20;
    private const int MaxResourcesPerGroup = 20;
    private const int MaxAttributes = 64;

    /// <summary>The market's part of the first step of a block: escrows that ran dry close their leases, unanswered bids time out.</summary>
    public static void BeginBlock(LedgerState state)
    {
        var market = state.Market;
        var height = state.MarketHeight;
        while (market.Exhaustion.Count > 0 && market.Exhaustion.Min.At <= height)
        {
            var (_, id) = market.Exhaustion.Min;
            var deployment = market.Deployments[id];
            Settle(state, deployment);
            if (deployment.Status == DeploymentStatus.Active)
            {
                // Settle closes an overdrawn deployment; one that was not (a stale entry) only needs its entry renewed.
                Reindex(state, deployment);
            }
        }
        while (market.BidExpiry.Count > 0 && market.BidExpiry.Min.At <= height)
        {
            var (_, bid) = market.BidExpiry.Min;
            market.BidExpiry.Remove(market.BidExpiry.Min);
            var order = OrderOf(market, bid.Order);
            if (order?.Bids.GetValueOrDefault(bid.Provider) is { Status: BidStatus.Open } open)
            {
                CloseBidState(state, bid.Order, open, BidStatus.Closed);
            }
        }
    }

    public static void Apply(LedgerState state, Transaction tx)
    {
        switch (tx)
        {
            case RegisterProvider r:
                Register(state, r);
                break;
            case SignProviderAttributes s:
                Audit(state, s);
                break;
            case CreateDeployment c:
                Create(state, c);
                break;
            case DepositDeployment d:
                Deposit(state, d);
                break;
            case CloseDeployment c:
                CloseDeploymentRule(state, c);
                break;
            case CreateBid b:
                Bid(state, b);
                break;
            case CloseBid b:
                WithdrawBid(state, b);
                break;
            case CreateLease l:
                Lease(state, l);
                break;
            case WithdrawLease w:
                Withdraw(state, w);
                break;
            case CloseLease c:
                CloseLeaseRule(state, c);
                break;
            default:
                throw new LedgerException(LedgerError.InvalidParameter, $"type: {tx.GetType().Name} is not a market transaction");
        }
    }

    /// <summary>The checks of a registration's fields (URL, attributes, capacity), in the order the ledger runs them; also what an EVM relayer runs before it relays.</summary>
    internal static (SortedDictionary<string, string> Attributes, ProviderCapacity Capacity) CheckProvider(RegisterProvider r)
    {
        if (!Uri.TryCreate(r.HostUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || r.HostUri.Length > 256)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"host_uri: must be an absolute http(s) URL of at most 256 characters, got '{r.HostUri}'");
        }
        return (ParseAttributes(r.Attributes, "attributes"), ParseCapacity(r.Capacity));
    }

    /// <summary>A deployment's groups, checked, with each group's ceiling per block in base units; also what an EVM relayer runs before it relays.</summary>
    internal static (IReadOnlyList<GroupSpec> Groups, UInt128[] Ceilings) CheckDeploymentGroups(string json, MarketParams rules)
    {
        var groups = GroupSpec.FromJson(json);
        return (groups, CheckGroups(groups, rules));
    }

    private static void Register(LedgerState state, RegisterProvider r)
    {
        var (attributes, capacity) = CheckProvider(r);
        var market = state.Market;
        if (market.Providers.TryGetValue(r.From, out var existing))
        {
            existing.HostUri = r.HostUri;
            existing.Attributes = attributes;
            existing.Capacity = capacity;
            return;
        }
        market.Providers[r.From] = new ProviderState { Owner = r.From, HostUri = r.HostUri, Attributes = attributes, Capacity = capacity, RegisteredAt = state.MarketHeight };
    }

    private static void Audit(LedgerState state, SignProviderAttributes s)
    {
        var attributes = ParseAttributes(s.Attributes, "attributes");
        if (!state.Market.Providers.ContainsKey(s.Provider))
        {
            throw new LedgerException(LedgerError.UnknownProvider, $"provider: {s.Provider} is not a registered provider");
        }
        if (attributes.Count == 0)
        {
            state.Market.Audits.Remove((s.From, s.Provider));
        }
        else
        {
            state.Market.Audits[(s.From, s.Provider)] = attributes;
        }
    }

    private static void Create(LedgerState state, CreateDeployment c)
    {
        var market = state.Market;
        var rules = state.Params.MarketRules;
        var id = new DeploymentId(c.From, c.Dseq);
        if (c.Dseq == 0)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "dseq: must be > 0");
        }
        if (market.Deployments.ContainsKey(id))
        {
            throw new LedgerException(LedgerError.DeploymentExists, $"dseq: {c.From} already has deployment {c.Dseq}");
        }
        if (c.ManifestHash == Hash32.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "manifest_hash: must be the SHA-256 of the deployment's manifest, not zero");
        }
        var (groups, ceilings) = CheckDeploymentGroups(c.Groups, rules);
        if (c.Deposit < rules.MinDeposit)
        {
            throw new LedgerException(LedgerError.DepositTooSmall,
                $"deposit: must be at least {Tokens.Format(rules.MinDeposit)} {Tokens.Symbol} ({rules.FromBaseUnits(rules.MinDeposit)} {rules.Denom}), got {Tokens.Format(c.Deposit)}");
        }
        StateMachine.Debit(state, c.From, c.Deposit, "the deployment's escrow deposit");
        var deployment = new DeploymentState { Id = id, ManifestHash = c.ManifestHash, CreatedAt = state.MarketHeight };
        deployment.Escrow.Balance = c.Deposit;
        deployment.Escrow.Deposited = c.Deposit;
        deployment.Escrow.SettledAt = state.MarketHeight;
        for (var i = 0; i < groups.Count; i++)
        {
            var group = new GroupState { Gseq = (uint)i + 1, Spec = groups[i], CeilingPerBlock = ceilings[i] };
            group.Orders.Add(new OrderState { Oseq = 1, CreatedAt = state.MarketHeight });
            deployment.Groups.Add(group);
        }
        market.Deployments[id] = deployment;
    }

    private static void Deposit(LedgerState state, DepositDeployment d)
    {
        var deployment = ActiveDeployment(state, d.Owner, d.Dseq);
        StateMachine.Debit(state, d.From, StateMachine.Positive(d.Amount, "amount"), "the deposit");
        Settle(state, deployment);
        deployment.Escrow.Balance += d.Amount;
        deployment.Escrow.Deposited += d.Amount;
        Reindex(state, deployment);
    }

    private static void CloseDeploymentRule(LedgerState state, CloseDeployment c)
    {
        var deployment = ActiveDeployment(state, c.Owner, c.Dseq);
        if (c.From != c.Owner)
        {
            throw new LedgerException(LedgerError.NotOwner, $"from: only the owner {c.Owner} may close deployment {deployment.Id}");
        }
        Settle(state, deployment);
        Close(state, deployment, LeaseStatus.Closed, "tenant_closed");
    }

    private static void Bid(LedgerState state, CreateBid b)
    {
        var market = state.Market;
        var rules = state.Params.MarketRules;
        if (!market.Providers.TryGetValue(b.From, out var provider))
        {
            throw new LedgerException(LedgerError.UnknownProvider, $"from: {b.From} is not a registered provider (register with its host URI and attributes first)");
        }
        var deployment = ActiveDeployment(state, b.Owner, b.Dseq);
        var (group, order) = Order(deployment, b.Gseq, b.Oseq);
        if (order.Status != OrderStatus.Open)
        {
            throw new LedgerException(LedgerError.OrderNotOpen, $"order: {OrderIdOf(deployment, group, order)} is {order.Status.ToString().ToLowerInvariant()}, it takes no bids");
        }
        if (order.Bids.TryGetValue(b.From, out var existing) && existing.Status == BidStatus.Open)
        {
            throw new LedgerException(LedgerError.BidExists, $"from: {b.From} already has an open bid on order {OrderIdOf(deployment, group, order)}");
        }
        StateMachine.Positive(b.Price, "price");
        if (b.Price > group.CeilingPerBlock)
        {
            throw new LedgerException(LedgerError.BidAboveCeiling,
                $"price: {rules.FromBaseUnits(b.Price)} {rules.Denom} per block is above the group's ceiling of {rules.FromBaseUnits(group.CeilingPerBlock)} {rules.Denom}");
        }
        if (Unmet(market, provider, group.Spec.Requirements) is { } unmet)
        {
            throw new LedgerException(LedgerError.RequirementsNotMet, $"from: provider {b.From} does not meet group '{group.Spec.Name}': {unmet}");
        }
        StateMachine.Debit(state, b.From, rules.BidDeposit, "the bid deposit");
        order.Bids[b.From] = new BidState { Provider = b.From, Price = b.Price, CreatedAt = state.MarketHeight, DepositHeld = rules.BidDeposit };
        market.BidExpiry.Add((state.MarketHeight + rules.BidTimeoutBlocks, new LeaseId(b.Owner, b.Dseq, b.Gseq, b.Oseq, b.From)));
    }

    private static void WithdrawBid(LedgerState state, CloseBid b)
    {
        var deployment = ActiveDeployment(state, b.Owner, b.Dseq);
        var (group, order) = Order(deployment, b.Gseq, b.Oseq);
        if (!order.Bids.TryGetValue(b.From, out var bid))
        {
            throw new LedgerException(LedgerError.UnknownBid, $"from: {b.From} has no bid on order {OrderIdOf(deployment, group, order)}");
        }
        if (bid.Status != BidStatus.Open)
        {
            throw new LedgerException(LedgerError.BidNotOpen, $"bid: {b.From}'s bid on {OrderIdOf(deployment, group, order)} is {bid.Status.ToString().ToLowerInvariant()}; close its lease instead");
        }
        CloseBidState(state, OrderIdOf(deployment, group, order), bid, BidStatus.Closed);
    }

    private static void Lease(LedgerState state, CreateLease l)
    {
        var deployment = Deployment(state, l.Owner, l.Dseq);
        if (l.From != l.Owner)
        {
            throw new LedgerException(LedgerError.NotOwner, $"from: {l.From} may not lease for deployment {deployment.Id}; only its owner {l.Owner} may");
        }
        RequireActive(deployment);
        var (group, order) = Order(deployment, l.Gseq, l.Oseq);
        if (order.Status != OrderStatus.Open)
        {
            throw new LedgerException(LedgerError.OrderNotOpen, $"order: {OrderIdOf(deployment, group, order)} is {order.Status.ToString().ToLowerInvariant()}");
        }
        if (!order.Bids.TryGetValue(l.Provider, out var bid) || bid.Status != BidStatus.Open)
        {
            throw new LedgerException(bid is null ? LedgerError.UnknownBid : LedgerError.BidNotOpen,
                $"provider: {l.Provider} has no open bid on order {OrderIdOf(deployment, group, order)}");
        }
        Settle(state, deployment);
        var orderId = OrderIdOf(deployment, group, order);
        Unexpire(state, orderId, bid);
        bid.Status = BidStatus.Active;
        foreach (var other in order.Bids.Values.Where(o => o.Status == BidStatus.Open && o.Provider != l.Provider))
        {
            CloseBidState(state, orderId, other, BidStatus.Lost);
        }
        order.Status = OrderStatus.Active;
        order.Lease = new LeaseState { Provider = l.Provider, Price = bid.Price, StartedAt = state.MarketHeight };
        Reindex(state, deployment);
    }

    private static void Withdraw(LedgerState state, WithdrawLease w)
    {
        var deployment = Deployment(state, w.Owner, w.Dseq);
        var (group, order) = Order(deployment, w.Gseq, w.Oseq);
        if (order.Lease is not { } lease)
        {
            throw new LedgerException(LedgerError.UnknownLease, $"order: {OrderIdOf(deployment, group, order)} has no lease");
        }
        if (lease.Provider != w.From)
        {
            throw new LedgerException(LedgerError.NotProvider, $"from: {w.From} is not the provider of lease {OrderIdOf(deployment, group, order)}/{lease.Provider}; only it may withdraw");
        }
        if (deployment.Status == DeploymentStatus.Active)
        {
            Settle(state, deployment);
        }
        PayOut(state, lease);
        if (deployment.Status == DeploymentStatus.Active)
        {
            Reindex(state, deployment);
        }
    }

    private static void CloseLeaseRule(LedgerState state, CloseLease c)
    {
        var deployment = Deployment(state, c.Owner, c.Dseq);
        var (group, order) = Order(deployment, c.Gseq, c.Oseq);
        if (order.Lease is not { } lease || lease.Provider != c.Provider)
        {
            throw new LedgerException(LedgerError.UnknownLease, $"lease: {OrderIdOf(deployment, group, order)}/{c.Provider} does not exist");
        }
        if (c.From != c.Owner && c.From != lease.Provider)
        {
            throw new LedgerException(LedgerError.NotOwner, $"from: only the owner {c.Owner} or the provider {lease.Provider} may close this lease");
        }
        if (lease.Status != LeaseStatus.Active)
        {
            throw new LedgerException(LedgerError.LeaseNotActive, $"lease: {OrderIdOf(deployment, group, order)}/{c.Provider} is already {StatusName(lease.Status)}");
        }
        Settle(state, deployment);
        var byProvider = c.From == lease.Provider && c.From != c.Owner;
        EndLease(state, OrderIdOf(deployment, group, order), order, lease, LeaseStatus.Closed, byProvider ? "provider_closed" : "tenant_closed");
        order.Status = OrderStatus.Closed;
        if (byProvider)
        {
            // A provider that drops a lease must not strand the tenant: the group takes bids again on a new order.
            group.Orders.Add(new OrderState { Oseq = order.Oseq + 1, CreatedAt = state.MarketHeight });
        }
        Reindex(state, deployment);
    }

    /// <summary>Settles the deployment's escrow to the current market height; an overdrawn account closes the deployment.</summary>
    internal static void Settle(LedgerState state, DeploymentState deployment)
    {
        var escrow = deployment.Escrow;
        var height = state.MarketHeight;
        var leases = deployment.ActiveLeases().ToArray();
        var plan = Escrow.Plan(escrow.Balance, escrow.SettledAt, leases.Select(l => l.Lease.Price).ToArray(), height);
        for (var i = 0; i < leases.Length; i++)
        {
            leases[i].Lease.Accrued += plan.Payments[i];
        }
        escrow.Balance = plan.BalanceAfter;
        escrow.Transferred += plan.Total;
        escrow.SettledAt = Math.Max(escrow.SettledAt, height);
        if (plan.Overdrawn)
        {
            escrow.Overdrawn = true;
            Close(state, deployment, LeaseStatus.InsufficientFunds, "insufficient_funds");
        }
    }

    /// <summary>Closes a settled deployment: every active lease ends (paid out), open bids return deposits, orders close, the rest is refunded.</summary>
    private static void Close(LedgerState state, DeploymentState deployment, LeaseStatus leaseStatus, string reason)
    {
        foreach (var group in deployment.Groups)
        {
            foreach (var order in group.Orders)
            {
                var orderId = OrderIdOf(deployment, group, order);
                if (order.Lease is { Status: LeaseStatus.Active } lease)
                {
                    EndLease(state, orderId, order, lease, leaseStatus, reason);
                }
                foreach (var bid in order.Bids.Values.Where(b => b.Status == BidStatus.Open))
                {
                    CloseBidState(state, orderId, bid, BidStatus.Closed);
                }
                order.Status = OrderStatus.Closed;
            }
        }
        if (deployment.Escrow.Balance > 0)
        {
            state.Account(deployment.Id.Owner).Balance += deployment.Escrow.Balance;
            deployment.Escrow.Balance = 0;
        }
        deployment.Status = DeploymentStatus.Closed;
        deployment.ClosedAt = state.MarketHeight;
        deployment.CloseReason = reason;
        Unindex(state, deployment);
    }

    private static void EndLease(LedgerState state, OrderId orderId, OrderState order, LeaseState lease, LeaseStatus status, string reason)
    {
        lease.Status = status;
        lease.ClosedAt = state.MarketHeight;
        lease.CloseReason = reason;
        PayOut(state, lease);
        if (order.Bids.TryGetValue(lease.Provider, out var bid))
        {
            CloseBidState(state, orderId, bid, BidStatus.Closed);
        }
    }

    private static void PayOut(LedgerState state, LeaseState lease)
    {
        if (lease.Accrued == 0)
        {
            return;
        }
        state.Account(lease.Provider).Balance += lease.Accrued;
        lease.Withdrawn += lease.Accrued;
        lease.Accrued = 0;
    }

    private static void CloseBidState(LedgerState state, OrderId order, BidState bid, BidStatus status)
    {
        Unexpire(state, order, bid);
        bid.Status = status;
        if (bid.DepositHeld > 0)
        {
            state.Account(bid.Provider).Balance += bid.DepositHeld;
            bid.DepositHeld = 0;
        }
    }

    /// <summary>A bid that is no longer open leaves the timeout index, so that blocks never walk past it.</summary>
    private static void Unexpire(LedgerState state, OrderId order, BidState bid)
    {
        if (bid.Status == BidStatus.Open)
        {
            state.Market.BidExpiry.Remove((bid.CreatedAt + state.Params.MarketRules.BidTimeoutBlocks, new LeaseId(order.Owner, order.Dseq, order.Gseq, order.Oseq, bid.Provider)));
        }
    }

    private static void Reindex(LedgerState state, DeploymentState deployment)
    {
        Unindex(state, deployment);
        var rate = deployment.ActiveLeases().Aggregate(UInt128.Zero, (sum, l) => checked(sum + l.Lease.Price));
        deployment.ExhaustAt = Escrow.ExhaustAt(deployment.Escrow.Balance, deployment.Escrow.SettledAt, rate);
        if (deployment.ExhaustAt is { } at)
        {
            state.Market.Exhaustion.Add((at, deployment.Id));
        }
    }

    private static void Unindex(LedgerState state, DeploymentState deployment)
    {
        if (deployment.ExhaustAt is { } at)
        {
            state.Market.Exhaustion.Remove((at, deployment.Id));
            deployment.ExhaustAt = null;
        }
    }

    internal static string StatusName(LeaseStatus status) => status switch
    {
        LeaseStatus.InsufficientFunds => "insufficient_funds",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static DeploymentState Deployment(LedgerState state, Address owner, ulong dseq) =>
        state.Market.Deployments.TryGetValue(new DeploymentId(owner, dseq), out var d)
            ? d
            : throw new LedgerException(LedgerError.UnknownDeployment, $"dseq: {owner} has no deployment {dseq}");

    private static DeploymentState ActiveDeployment(LedgerState state, Address owner, ulong dseq)
    {
        var deployment = Deployment(state, owner, dseq);
        RequireActive(deployment);
        return deployment;
    }

    private static void RequireActive(DeploymentState deployment)
    {
        if (deployment.Status != DeploymentStatus.Active)
        {
            throw new LedgerException(LedgerError.DeploymentClosed, $"dseq: deployment {deployment.Id} is closed ({deployment.CloseReason})");
        }
    }

    private static (GroupState Group, OrderState Order) Order(DeploymentState deployment, uint gseq, uint oseq)
    {
        if (gseq == 0 || gseq > deployment.Groups.Count)
        {
            throw new LedgerException(LedgerError.UnknownOrder, $"gseq: deployment {deployment.Id} has groups 1..{deployment.Groups.Count}, not {gseq}");
        }
        var group = deployment.Groups[(int)gseq - 1];
        var order = group.Orders.FirstOrDefault(o => o.Oseq == oseq)
            ?? throw new LedgerException(LedgerError.UnknownOrder, $"oseq: group {gseq} of deployment {deployment.Id} has no order {oseq} (its current order is {group.CurrentOrder.Oseq})");
        return (group, order);
    }

    private static OrderState? OrderOf(MarketState market, OrderId id) =>
        market.Deployments.TryGetValue(id.Deployment, out var d) && id.Gseq >= 1 && id.Gseq <= d.Groups.Count
            ? d.Groups[(int)id.Gseq - 1].Orders.FirstOrDefault(o => o.Oseq == id.Oseq)
            : null;

    private static OrderId OrderIdOf(DeploymentState deployment, GroupState group, OrderState order) => new(deployment.Id.Owner, deployment.Id.Dseq, group.Gseq, order.Oseq);

    internal static SortedDictionary<string, string> ParseAttributes(string json, string field)
    {
        Dictionary<string, string>? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<Dictionary<string, string>>(json);
        }
        catch (JsonException ex)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"{field}: must be a JSON object of string values ({ex.Message})");
        }
        if (parsed is null || parsed.Count > MaxAttributes)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"{field}: must be a JSON object of at most {MaxAttributes} string values");
        }
        foreach (var (key, value) in parsed)
        {
            if (!AttributeKey().IsMatch(key) || value.Length is 0 or > 256)
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"{field}.{key}: keys are 1-128 of letters, digits and _ - . / (starting with a letter), values 1-256 characters");
            }
        }
        return new SortedDictionary<string, string>(parsed, StringComparer.Ordinal);
    }

    internal static ProviderCapacity ParseCapacity(string json)
    {
        ProviderCapacity? capacity;
        try
        {
            capacity = JsonSerializer.Deserialize<ProviderCapacity>(json, GroupSpec.JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"capacity: not a valid capacity ({ex.Path}: {ex.Message})");
        }
        if (capacity is null || capacity.CpuMillis == 0 || capacity.MemoryBytes == 0)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "capacity: cpu_millis and memory_bytes must be > 0");
        }
        return capacity;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_\-./]{0,127}$")]
    private static partial System.Text.RegularExpressions.Regex AttributeKey();
}
