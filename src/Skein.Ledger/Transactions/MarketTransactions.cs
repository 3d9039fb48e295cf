using Skein.Ledger.Crypto;

namespace Skein.Ledger.Transactions;

/// <summary>Registers the sender as a compute provider, or updates its record: endpoint, attributes (a JSON object), capacity (JSON).</summary>
public sealed record RegisterProvider : Transaction
{
    public required string HostUri { get; init; }

    /// <summary>A JSON object of attribute keys to values, e.g. <c>{"region":"eu","tier":"community"}</c>.</summary>
    public required string Attributes { get; init; }

    /// <summary>The declared capacity as JSON (<see cref="Market.ProviderCapacity"/>).</summary>
    public required string Capacity { get; init; }

    public override string TypeSignature => "RegisterProvider(address from,uint64 nonce,string hostUri,string attributes,string capacity)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.String(HostUri);
        writer.String(Attributes);
        writer.String(Capacity);
    }
}

/// <summary>An auditor certifies attributes of a provider (a JSON object; empty revokes), which tenants can require with <c>signedBy</c>.</summary>
public sealed record SignProviderAttributes : Transaction
{
    public required Address Provider { get; init; }

    public required string Attributes { get; init; }

    public override string TypeSignature => "SignProviderAttributes(address from,uint64 nonce,address provider,string attributes)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Provider);
        writer.String(Attributes);
    }
}

/// <summary>
/// Creates a deployment: its sequence number (chosen by the owner), the manifest's hash (its version), its groups
/// (canonical JSON of <see cref="Market.GroupSpec"/>s, from the SDL) and the escrow deposit; opens one order per group.
/// </summary>
public sealed record CreateDeployment : Transaction
{
    public required ulong Dseq { get; init; }

    public required Hash32 ManifestHash { get; init; }

    public required string Groups { get; init; }

    public required UInt128 Deposit { get; init; }

    public override string TypeSignature => "CreateDeployment(address from,uint64 nonce,uint64 dseq,bytes32 manifestHash,string groups,uint256 deposit)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(Dseq);
        writer.Bytes32(ManifestHash);
        writer.String(Groups);
        writer.UInt(Deposit);
    }
}

/// <summary>Tops up a deployment's escrow from the sender's balance (anyone may; what is left returns to the owner at close).</summary>
public sealed record DepositDeployment : Transaction
{
    public required Address Owner { get; init; }

    public required ulong Dseq { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "DepositDeployment(address from,uint64 nonce,address owner,uint64 dseq,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Owner);
        writer.UInt(Dseq);
        writer.UInt(Amount);
    }
}

/// <summary>The owner closes a deployment: its leases are paid to this block and closed, bids return their deposits, the rest of the escrow returns.</summary>
public sealed record CloseDeployment : Transaction
{
    public required Address Owner { get; init; }

    public required ulong Dseq { get; init; }

    public override string TypeSignature => "CloseDeployment(address from,uint64 nonce,address owner,uint64 dseq)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Owner);
        writer.UInt(Dseq);
    }
}

/// <summary>Base of the transactions about one order: the deployment's owner and sequence, the group and the order.</summary>
public abstract record OrderTransaction : Transaction
{
    public required Address Owner { get; init; }

    public required ulong Dseq { get; init; }

    public required uint Gseq { get; init; }

    public required uint Oseq { get; init; }

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Owner);
        writer.UInt(Dseq);
        writer.UInt(Gseq);
        writer.UInt(Oseq);
        EncodeOrderFields(writer);
    }

    protected virtual void EncodeOrderFields(Eip712Writer writer)
    {
    }
}

/// <summary>A registered provider bids on an open order: its price per block for the whole group, in base units; a bid deposit is held.</summary>
public sealed record CreateBid : OrderTransaction
{
    public required UInt128 Price { get; init; }

    public override string TypeSignature => "CreateBid(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,uint256 price)";

    protected override void EncodeOrderFields(Eip712Writer writer) => writer.UInt(Price);
}

/// <summary>A provider withdraws its open bid; the deposit returns.</summary>
public sealed record CloseBid : OrderTransaction
{
    public override string TypeSignature => "CloseBid(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq)";
}

/// <summary>The deployment's owner accepts a provider's bid: the lease starts, the order's other bids lose and get their deposits back.</summary>
public sealed record CreateLease : OrderTransaction
{
    public required Address Provider { get; init; }

    public override string TypeSignature => "CreateLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,address provider)";

    protected override void EncodeOrderFields(Eip712Writer writer) => writer.Address(Provider);
}

/// <summary>The lease's provider settles the escrow and moves what the lease earned to its balance.</summary>
public sealed record WithdrawLease : OrderTransaction
{
    public override string TypeSignature => "WithdrawLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq)";
}

/// <summary>
/// The owner or the provider closes a lease, paid to this block. Closed by the owner, the group closes; closed by
/// the provider, the group reopens with a new order, so the tenant can lease elsewhere.
/// </summary>
public sealed record CloseLease : OrderTransaction
{
    public required Address Provider { get; init; }

    public override string TypeSignature => "CloseLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,address provider)";

    protected override void EncodeOrderFields(Eip712Writer writer) => writer.Address(Provider);
}
