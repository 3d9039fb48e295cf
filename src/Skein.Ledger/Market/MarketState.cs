namespace Skein.Ledger.Market;

/// <summary>Where a deployment is: running (its escrow paying its leases) or closed.</summary>
public enum DeploymentStatus : byte
{
    Active = 1,
    Closed = 2,
}

/// <summary>Where an order is: taking bids, leased, or closed.</summary>
public enum OrderStatus : byte
{
    Open = 1,
    Active = 2,
    Closed = 3,
}

/// <summary>Where a bid is: waiting, won (its lease runs), lost to another bid, or closed (withdrawn, timed out, order closed).</summary>
public enum BidStatus : byte
{
    Open = 1,
    Active = 2,
    Lost = 3,
    Closed = 4,
}

/// <summary>Where a lease is: paid each block, closed by someone, or closed because the escrow ran dry (Akash's three states).</summary>
public enum LeaseStatus : byte
{
    Active = 1,
    Closed = 2,
    InsufficientFunds = 3,
}

/// <summary>What a provider declares it can run; its bid engine and `skein deploy`'s no-bid explanation read it.</summary>
public sealed record ProviderCapacity(ulong CpuMillis, ulong MemoryBytes, ulong StorageBytes, IReadOnlyList<GpuCount> Gpus);

/// <summary>GPUs of one model a provider holds.</summary>
public sealed record GpuCount(string Vendor, string Model, uint Count, string? Ram = null, string? Interface = null);

/// <summary>A registered provider: where its endpoint is, what it advertises, what it holds.</summary>
public sealed class ProviderState
{
    public required Address Owner { get; init; }

    public required string HostUri { get; set; }

    public required SortedDictionary<string, string> Attributes { get; set; }

    public required ProviderCapacity Capacity { get; set; }

    public required ulong RegisteredAt { get; init; }
}

/// <summary>A deployment's escrow account: what is left, what went in and out, and the market height it is settled to.</summary>
public sealed class EscrowAccount
{
    public UInt128 Balance { get; set; }

    public UInt128 Deposited { get; set; }

    public UInt128 Transferred { get; set; }

    public ulong SettledAt { get; set; }

    public bool Overdrawn { get; set; }
}

/// <summary>A provider's bid on an order: its price per block and the deposit it holds while open or leased.</summary>
public sealed class BidState
{
    public required Address Provider { get; init; }

    public required UInt128 Price { get; init; }

    public required ulong CreatedAt { get; init; }

    public BidStatus Status { get; set; } = BidStatus.Open;

    public UInt128 DepositHeld { get; set; }
}

/// <summary>A lease: the winning bid's provider paid its price per block from the deployment's escrow.</summary>
public sealed class LeaseState
{
    public required Address Provider { get; init; }

    public required UInt128 Price { get; init; }

    public required ulong StartedAt { get; init; }

    public LeaseStatus Status { get; set; } = LeaseStatus.Active;

    public ulong? ClosedAt { get; set; }

    public string? CloseReason { get; set; }

    /// <summary>Settled to the lease and not yet withdrawn by the provider.</summary>
    public UInt128 Accrued { get; set; }

    public UInt128 Withdrawn { get; set; }

    public UInt128 Paid => Accrued + Withdrawn;
}

/// <summary>One order of a group: the bids it took and, once the tenant picked one, the lease.</summary>
public sealed class OrderState
{
    public required uint Oseq { get; init; }

    public required ulong CreatedAt { get; init; }

    public OrderStatus Status { get; set; } = OrderStatus.Open;

    public SortedDictionary<Address, BidState> Bids { get; } = [];

    public LeaseState? Lease { get; set; }
}

/// <summary>One group of a deployment: its spec, its ceiling per block, and its orders (a new one when a provider drops the lease).</summary>
public sealed class GroupState
{
    public required uint Gseq { get; init; }

    public required GroupSpec Spec { get; init; }

    /// <summary>The spec's canonical JSON, kept because the state root hashes it at every block.</summary>
    public string SpecJson => _specJson ??= GroupSpec.ToCanonicalJson([Spec]);

    private string? _specJson;

    /// <summary>The most the tenant pays per block for the whole group: the sum of price x count over its resources, in base units.</summary>
    public required UInt128 CeilingPerBlock { get; init; }

    public List<OrderState> Orders { get; } = [];

    public OrderState CurrentOrder => Orders[^1];
}

/// <summary>A deployment: the manifest's hash (its version), its groups and its escrow.</summary>
public sealed class DeploymentState
{
    public required DeploymentId Id { get; init; }

    public required Hash32 ManifestHash { get; init; }

    public required ulong CreatedAt { get; init; }

    public DeploymentStatus Status { get; set; } = DeploymentStatus.Active;

    public ulong? ClosedAt { get; set; }

    public string? CloseReason { get; set; }

    public List<GroupState> Groups { get; } = [];

    public EscrowAccount Escrow { get; } = new();

    /// <summary>The market height at which the escrow can no longer pay its leases (null: nothing to pay); kept in <see cref="MarketState.Exhaustion"/>.</summary>
    public ulong? ExhaustAt { get; set; }

    public IEnumerable<(GroupState Group, OrderState Order, LeaseState Lease)> ActiveLeases() =>
        Groups.SelectMany(g => g.Orders.Where(o => o.Lease is { Status: LeaseStatus.Active }).Select(o => (g, o, o.Lease!)));
}

/// <summary>
/// The market's part of the ledger state: providers, auditors' signatures, deployments with their orders, bids,
/// leases and escrow. Sorted collections keep iteration, and so the state root, the same everywhere; the two
/// indexes are derived (rebuilt by the same rules on replay) and not hashed.
/// </summary>
public sealed class MarketState
{
    public SortedDictionary<Address, ProviderState> Providers { get; } = [];

    /// <summary>Attributes an auditor (first) signed for a provider (second).</summary>
    public SortedDictionary<(Address Auditor, Address Provider), SortedDictionary<string, string>> Audits { get; } = [];

    public SortedDictionary<DeploymentId, DeploymentState> Deployments { get; } = [];

    /// <summary>Deployments by the market height their escrow runs dry at; the first step of every block closes the due ones.</summary>
    public SortedSet<(ulong At, DeploymentId Deployment)> Exhaustion { get; } = [];

    /// <summary>Open bids by the market height they time out at.</summary>
    public SortedSet<(ulong At, LeaseId Bid)> BidExpiry { get; } = [];

    public bool IsEmpty => Providers.Count == 0 && Audits.Count == 0 && Deployments.Count == 0;

    /// <summary>Every token the market holds: escrow balances, lease earnings not yet withdrawn, bid deposits.</summary>
    public UInt128 TotalHeld()
    {
        UInt128 total = 0;
        foreach (var d in Deployments.Values)
        {
            total += d.Escrow.Balance;
            foreach (var g in d.Groups)
            {
                foreach (var o in g.Orders)
                {
                    if (o.Lease is { } lease)
                    {
                        total += lease.Accrued;
                    }
                    foreach (var b in o.Bids.Values)
                    {
                        total += b.DepositHeld;
                    }
                }
            }
        }
        return total;
    }
}
