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
    [Parameter("string", "field", 1)] public string Field { get; set; } = "";
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
    [Parameter("string", "field", 1)] public string Field { get; set; } = "";
    [Parameter("string", "rule", 2)] public string Rule { get; set; } = "";
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
