using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace Skein.Ledger.Evm.Contracts;

// SkeinTasksLiveness.sol: deadlines, cancelling, handover, leaving and the stake bond, run by SkeinTasks in its storage
// (its fallback), so every call below goes to the SkeinTasks address.

internal sealed class LivenessDeployment : ContractDeploymentMessage
{
    public LivenessDeployment()
        : base(ContractArtifact.Load("SkeinTasksLiveness").Bytecode)
    {
    }

    [Parameter("address", "ledger_", 1)] public string Ledger { get; set; } = "";
}

internal sealed class LivenessRulesTuple
{
    [Parameter("uint64", "trainingBlocks", 1)] public ulong TrainingBlocks { get; set; }
    [Parameter("uint64", "commitBlocks", 2)] public ulong CommitBlocks { get; set; }
    [Parameter("uint64", "revealBlocks", 3)] public ulong RevealBlocks { get; set; }
    [Parameter("uint64", "abandonBlocks", 4)] public ulong AbandonBlocks { get; set; }
}

[Function("relayCancelTask")]
internal sealed class RelayCancelTask : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("bytes", "signature", 4)] public byte[] Signature { get; set; } = [];
}

[Function("relayHandoverTask")]
internal sealed class RelayHandoverTask : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("address", "coordinator", 4)] public string Coordinator { get; set; } = "";
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayLeaveTask")]
internal sealed class RelayLeaveTask : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint8", "role", 4)] public byte Role { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("livenessOf")]
internal sealed class LivenessOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
}

[FunctionOutput]
internal sealed class LivenessOfOutput : IFunctionOutputDTO
{
    [Parameter("address", "coordinator", 1)] public string Coordinator { get; set; } = "";
    [Parameter("bool", "cancelled", 2)] public bool Cancelled { get; set; }
    [Parameter("uint256", "refunded", 3)] public BigInteger Refunded { get; set; }
    [Parameter("uint64", "lastProgress", 4)] public ulong LastProgress { get; set; }
    [Parameter("uint64", "abandonHeight", 5)] public ulong AbandonHeight { get; set; }
}

[Function("deadlineOf", "uint64")]
internal sealed class DeadlineOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
}

[Function("membersOf", "address[]")]
internal sealed class MembersOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint8", "role", 2)] public byte Role { get; set; }
}

[Error("NotYetDue")]
internal sealed class NotYetDueError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint64", "due", 2)] public ulong Due { get; set; }
    [Parameter("uint64", "height", 3)] public ulong Height { get; set; }
}

[Error("NotMember")]
internal sealed class NotMemberError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("address", "account", 2)] public string Account { get; set; } = "";
}

[Error("NotCreator")]
internal sealed class NotCreatorError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("address", "creator", 2)] public string Creator { get; set; } = "";
}

[Error("TaskCancelled")]
internal sealed class TaskCancelledError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
}

[Error("StakeBonded")]
internal sealed class StakeBondedError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint64", "taskId", 2)] public ulong TaskId { get; set; }
    [Parameter("uint256", "minimum", 3)] public BigInteger Minimum { get; set; }
}
