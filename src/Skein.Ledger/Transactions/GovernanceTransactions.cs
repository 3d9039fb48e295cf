using Skein.Ledger.Crypto;
using Skein.Ledger.Governance;

namespace Skein.Ledger.Transactions;

/// <summary>
/// Opens a proposal and locks its deposit. One type for every kind, so that one signature format serves them all:
/// fields a kind does not use stay empty (zero, "", the zero address) and must be.
/// </summary>
public sealed record SubmitProposal : Transaction
{
    public required ProposalKind Kind { get; init; }

    public string Parameter { get; init; } = "";

    public UInt128 Value { get; init; }

    public ulong TaskId { get; init; }

    public Hash32 ModelHash { get; init; } = Hash32.Zero;

    public string Name { get; init; } = "";

    public string License { get; init; } = "";

    public Address Recipient { get; init; }

    public UInt128 Amount { get; init; }

    public required UInt128 Deposit { get; init; }

    public override string TypeSignature =>
        "SubmitProposal(address from,uint64 nonce,uint8 kind,string parameter,uint256 value,uint64 taskId,bytes32 modelHash,string name,string license,address recipient,uint256 amount,uint256 deposit)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt((byte)Kind);
        writer.String(Parameter);
        writer.UInt(Value);
        writer.UInt(TaskId);
        writer.Bytes32(ModelHash);
        writer.String(Name);
        writer.String(License);
        writer.Address(Recipient);
        writer.UInt(Amount);
        writer.UInt(Deposit);
    }
}

/// <summary>Casts (or changes) the sender's vote on a proposal still in its voting period.</summary>
public sealed record VoteProposal : Transaction
{
    public required ulong ProposalId { get; init; }

    public required VoteOption Option { get; init; }

    public override string TypeSignature => "VoteProposal(address from,uint64 nonce,uint64 proposalId,uint8 option)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(ProposalId);
        writer.UInt((byte)Option);
    }
}
