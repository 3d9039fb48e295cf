using Skein.Ledger.Crypto;

namespace Skein.Ledger.Transactions;

/// <summary>
/// Cancels a task that made no progress for the governed abandonment period: anyone may send it. The unpaid pool
/// returns to the creator, every participant is released from the task without penalty, and rounds already settled
/// keep their payouts.
/// </summary>
public sealed record CancelTask : Transaction
{
    public required ulong TaskId { get; init; }

    public override string TypeSignature => "CancelTask(address from,uint64 nonce,uint64 taskId)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(TaskId);
    }
}

/// <summary>The task's creator moves its coordination to another address; that address's coordinator resumes it from the ledger and the published blobs.</summary>
public sealed record HandoverTask : Transaction
{
    public required ulong TaskId { get; init; }

    public required Address Coordinator { get; init; }

    public override string TypeSignature => "HandoverTask(address from,uint64 nonce,uint64 taskId,address coordinator)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(TaskId);
        writer.Address(Coordinator);
    }
}

/// <summary>
/// A member leaves a task in a role. Between rounds its stake is free at once; picked in a round that has not settled,
/// it stays bound to that round until it settles, and what it leaves undone counts as missing (no reward; a commit
/// without a reveal is slashed).
/// </summary>
public sealed record LeaveTask : Transaction
{
    public required ulong TaskId { get; init; }

    public required Role Role { get; init; }

    public override string TypeSignature => "LeaveTask(address from,uint64 nonce,uint64 taskId,uint8 role)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(TaskId);
        writer.UInt((byte)Role);
    }
}
