using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;

namespace Skein.Ledger.Evm.Contracts;

// The custom errors of SkeinLedger.sol, decoded into the embedded ledger's refusals (same codes, same wording).

[Error("BadSignature")]
internal sealed class BadSignatureError
{
    [Parameter("address", "claimed", 1)] public string Claimed { get; set; } = "";
    [Parameter("address", "recovered", 2)] public string Recovered { get; set; } = "";
}

[Error("BadNonce")]
internal sealed class BadNonceError
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong Nonce { get; set; }
    [Parameter("uint64", "expected", 3)] public ulong Expected { get; set; }
}

[Error("InvalidAmount")]
internal sealed class InvalidAmountError
{
    [Parameter("uint8", "field", 1)] public byte Field { get; set; }
}

[Error("InsufficientBalance")]
internal sealed class InsufficientBalanceError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint256", "needed", 2)] public BigInteger Needed { get; set; }
    [Parameter("uint256", "available", 3)] public BigInteger Available { get; set; }
}

[Error("InsufficientStake")]
internal sealed class InsufficientStakeError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint256", "needed", 2)] public BigInteger Needed { get; set; }
    [Parameter("uint256", "available", 3)] public BigInteger Available { get; set; }
}

[Error("InvalidParameter")]
internal sealed class InvalidParameterError
{
    [Parameter("uint8", "field", 1)] public byte Field { get; set; }
}

[Error("UnknownTask")]
internal sealed class UnknownTaskError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
}

[Error("TaskCompleted")]
internal sealed class TaskCompletedError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "rounds", 2)] public uint Rounds { get; set; }
}

[Error("NotCoordinator")]
internal sealed class NotCoordinatorError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("address", "coordinator", 2)] public string Coordinator { get; set; } = "";
}

[Error("RoundNotOpen")]
internal sealed class RoundNotOpenError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
    [Parameter("uint8", "kind", 3)] public byte Kind { get; set; }
    [Parameter("uint32", "expected", 4)] public uint Expected { get; set; }
}

[Error("WrongPhase")]
internal sealed class WrongPhaseError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
    [Parameter("uint8", "phase", 3)] public byte Phase { get; set; }
}

[Error("NotPicked")]
internal sealed class NotPickedError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
    [Parameter("uint8", "role", 3)] public byte Role { get; set; }
}

[Error("AlreadySubmitted")]
internal sealed class AlreadySubmittedError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
}

[Error("NotCommitted")]
internal sealed class NotCommittedError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
}

[Error("ScoreForUnknownUpdate")]
internal sealed class ScoreForUnknownUpdateError
{
    [Parameter("uint256", "scores", 1)] public BigInteger Scores { get; set; }
    [Parameter("uint256", "updates", 2)] public BigInteger Updates { get; set; }
}

[Error("RevealMismatch")]
internal sealed class RevealMismatchError
{
    [Parameter("bytes32", "recomputed", 1)] public byte[] Recomputed { get; set; } = [];
    [Parameter("bytes32", "commitment", 2)] public byte[] Commitment { get; set; } = [];
}

[Error("BadScore")]
internal sealed class BadScoreError
{
    [Parameter("uint256", "index", 1)] public BigInteger Index { get; set; }
    [Parameter("uint256", "score", 2)] public BigInteger Score { get; set; }
}

[Error("WrongModel")]
internal sealed class WrongModelError
{
    [Parameter("uint32", "settledRounds", 1)] public uint SettledRounds { get; set; }
    [Parameter("bytes32", "modelHash", 2)] public byte[] ModelHash { get; set; } = [];
}
