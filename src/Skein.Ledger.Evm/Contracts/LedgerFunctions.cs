using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace Skein.Ledger.Evm.Contracts;

// The relayed entry points of SkeinLedger.sol: each carries the signed transaction's fields and its signature.

[Function("relayTransfer")]
internal sealed class RelayTransfer : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "to", 3)] public string To { get; set; } = "";
    [Parameter("uint256", "amount", 4)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayStake")]
internal sealed class RelayStake : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint8", "role", 3)] public byte Role { get; set; }
    [Parameter("uint256", "amount", 4)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayUnstake")]
internal sealed class RelayUnstake : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint8", "role", 3)] public byte Role { get; set; }
    [Parameter("uint256", "amount", 4)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayDelegate")]
internal sealed class RelayDelegate : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "operator", 3)] public string Operator { get; set; } = "";
    [Parameter("uint8", "role", 4)] public byte Role { get; set; }
    [Parameter("uint256", "amount", 5)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relayUndelegate")]
internal sealed class RelayUndelegate : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "operator", 3)] public string Operator { get; set; } = "";
    [Parameter("uint8", "role", 4)] public byte Role { get; set; }
    [Parameter("uint256", "amount", 5)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relaySetCommission")]
internal sealed class RelaySetCommission : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint16", "bps", 3)] public ushort Bps { get; set; }
    [Parameter("bytes", "signature", 4)] public byte[] Signature { get; set; } = [];
}

[Function("nonces", "uint64")]
internal sealed class NoncesQuery : FunctionMessage
{
    [Parameter("address", "", 1)] public string Account { get; set; } = "";
}

[Function("balanceOf", "uint256")]
internal sealed class BalanceOfQuery : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

[Function("totalSupply", "uint256")]
internal sealed class TotalSupplyQuery : FunctionMessage;

[Function("commissionBps", "uint16")]
internal sealed class CommissionQuery : FunctionMessage
{
    [Parameter("address", "", 1)] public string Account { get; set; } = "";
}

[Function("stakeOf")]
internal sealed class StakeOfQuery : FunctionMessage
{
    [Parameter("address", "operator", 1)] public string Operator { get; set; } = "";
    [Parameter("uint8", "role", 2)] public byte Role { get; set; }
}

[FunctionOutput]
internal sealed class StakeOfOutput : IFunctionOutputDTO
{
    [Parameter("uint256", "self", 1)] public BigInteger Self { get; set; }
    [Parameter("uint256", "delegated", 2)] public BigInteger Delegated { get; set; }
}

[Function("delegations", "uint256")]
internal sealed class DelegationQuery : FunctionMessage
{
    [Parameter("address", "", 1)] public string Delegator { get; set; } = "";
    [Parameter("address", "", 2)] public string Operator { get; set; } = "";
    [Parameter("uint8", "", 3)] public byte Role { get; set; }
}

[Function("unbondingsOf")]
internal sealed class UnbondingsQuery : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

[FunctionOutput]
internal sealed class UnbondingsOutput : IFunctionOutputDTO
{
    [Parameter("tuple[]", "", 1)] public List<UnbondingTuple> Items { get; set; } = [];
}

internal sealed class UnbondingTuple
{
    [Parameter("uint256", "amount", 1)] public BigInteger Amount { get; set; }
    [Parameter("uint64", "releaseBlock", 2)] public ulong ReleaseBlock { get; set; }
}

[Function("held", "uint256")]
internal sealed class HeldQuery : FunctionMessage;

[Function("staked", "uint256")]
internal sealed class StakedQuery : FunctionMessage;

[Function("relayCreateTask")]
internal sealed class RelayCreateTask : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("bytes32", "specHash", 3)] public byte[] SpecHash { get; set; } = [];
    [Parameter("uint256", "rewardPool", 4)] public BigInteger RewardPool { get; set; }
    [Parameter("uint32", "rounds", 5)] public uint Rounds { get; set; }
    [Parameter("uint256", "minStake", 6)] public BigInteger MinStake { get; set; }
    [Parameter("uint32", "trainersPerRound", 7)] public uint TrainersPerRound { get; set; }
    [Parameter("uint32", "validatorsPerRound", 8)] public uint ValidatorsPerRound { get; set; }
    [Parameter("uint32", "rejectBelow", 9)] public uint RejectBelow { get; set; }
    [Parameter("bytes", "signature", 10)] public byte[] Signature { get; set; } = [];
}

[Function("relayJoinTask")]
internal sealed class RelayJoinTask : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint8", "role", 4)] public byte Role { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("incentives")]
internal sealed class IncentivesQuery : FunctionMessage;

[FunctionOutput]
internal sealed class IncentivesOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "", 1)] public IncentivesTuple Incentives { get; set; } = new();
}

[Function("nextTaskId", "uint64")]
internal sealed class NextTaskIdQuery : FunctionMessage;

[Function("taskOf")]
internal sealed class TaskOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
}

[FunctionOutput]
internal sealed class TaskOfOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "task", 1)] public TaskTuple Task { get; set; } = new();
    [Parameter("address[]", "trainers", 2)] public List<string> Trainers { get; set; } = [];
    [Parameter("address[]", "validators", 3)] public List<string> Validators { get; set; } = [];
}

internal sealed class TaskTuple
{
    [Parameter("address", "creator", 1)] public string Creator { get; set; } = "";
    [Parameter("bytes32", "specHash", 2)] public byte[] SpecHash { get; set; } = [];
    [Parameter("uint256", "rewardPool", 3)] public BigInteger RewardPool { get; set; }
    [Parameter("uint256", "escrow", 4)] public BigInteger Escrow { get; set; }
    [Parameter("uint32", "rounds", 5)] public uint Rounds { get; set; }
    [Parameter("uint32", "settledRounds", 6)] public uint SettledRounds { get; set; }
    [Parameter("bool", "completed", 7)] public bool Completed { get; set; }
    [Parameter("uint256", "minStake", 8)] public BigInteger MinStake { get; set; }
    [Parameter("uint32", "trainersPerRound", 9)] public uint TrainersPerRound { get; set; }
    [Parameter("uint32", "validatorsPerRound", 10)] public uint ValidatorsPerRound { get; set; }
    [Parameter("uint32", "rejectBelow", 11)] public uint RejectBelow { get; set; }
    [Parameter("bytes32", "modelHash", 12)] public byte[] ModelHash { get; set; } = [];
}

internal sealed class LedgerDeployment : ContractDeploymentMessage
{
    public LedgerDeployment()
        : base(ContractArtifact.Load("SkeinLedger").Bytecode)
    {
    }

    [Parameter("address[]", "accounts", 1)] public List<string> Accounts { get; set; } = [];
    [Parameter("uint256[]", "amounts", 2)] public List<BigInteger> Amounts { get; set; } = [];
    [Parameter("tuple", "chain_", 3)] public ChainParamsTuple Chain { get; set; } = new();
}

/// <summary>SkeinLedger.ChainParams: the governed parameters SkeinLedger keeps (one storage word).</summary>
internal sealed class ChainParamsTuple
{
    [Parameter("uint64", "unbondingBlocks", 1)] public ulong UnbondingBlocks { get; set; }
    [Parameter("uint16", "treasurySlashBps", 2)] public ushort TreasurySlashBps { get; set; }
    [Parameter("uint16", "treasuryEmissionBps", 3)] public ushort TreasuryEmissionBps { get; set; }
    [Parameter("bool", "taskApproval", 4)] public bool TaskApproval { get; set; }
    [Parameter("uint64", "governanceDue", 5)] public ulong GovernanceDue { get; set; }
}

internal sealed class TasksDeployment : ContractDeploymentMessage
{
    public TasksDeployment()
        : base(ContractArtifact.Load("SkeinTasks").Bytecode)
    {
    }

    [Parameter("address", "ledger_", 1)] public string Ledger { get; set; } = "";
    [Parameter("tuple", "incentives_", 2)] public IncentivesTuple Incentives { get; set; } = new();
    [Parameter("address", "extension_", 3)] public string Extension { get; set; } = "";
    [Parameter("tuple", "liveness_", 4)] public LivenessRulesTuple Liveness { get; set; } = new();
}

[Function("tasks", "address")]
internal sealed class TasksQuery : FunctionMessage;

[Function("delegatorsOf")]
internal sealed class DelegatorsOfQuery : FunctionMessage
{
    [Parameter("address", "operator", 1)] public string Operator { get; set; } = "";
    [Parameter("uint8", "role", 2)] public byte Role { get; set; }
}

[FunctionOutput]
internal sealed class DelegatorsOfOutput : IFunctionOutputDTO
{
    [Parameter("address[]", "who", 1)] public List<string> Who { get; set; } = [];
    [Parameter("uint256[]", "amounts", 2)] public List<BigInteger> Amounts { get; set; } = [];
    [Parameter("uint256", "total", 3)] public BigInteger Total { get; set; }
}

[Event("Movement")]
internal sealed class MovementEvent : IEventDTO
{
    [Parameter("uint64", "taskId", 1, true)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2, true)] public uint Round { get; set; }
    [Parameter("address", "account", 3, true)] public string Account { get; set; } = "";
    [Parameter("string", "kind", 4, false)] public string Kind { get; set; } = "";
    [Parameter("uint256", "amount", 5, false)] public BigInteger Amount { get; set; }
    [Parameter("address", "operator", 6, false)] public string Operator { get; set; } = "";
}

[Event("RoundPhase")]
internal sealed class RoundPhaseEvent : IEventDTO
{
    [Parameter("uint64", "taskId", 1, true)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2, true)] public uint Round { get; set; }
    [Parameter("uint8", "phase", 3, false)] public byte Phase { get; set; }
}

[Event("Verdict")]
internal sealed class VerdictEvent : IEventDTO
{
    [Parameter("uint64", "taskId", 1, true)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2, true)] public uint Round { get; set; }
    [Parameter("uint256", "index", 3, false)] public BigInteger Index { get; set; }
    [Parameter("uint256", "consensus", 4, false)] public BigInteger Consensus { get; set; }
    [Parameter("bool", "accepted", 5, false)] public bool Accepted { get; set; }
    [Parameter("uint256", "reward", 6, false)] public BigInteger Reward { get; set; }
}

internal sealed class IncentivesTuple
{
    [Parameter("uint32", "trainerShareBps", 1)] public uint TrainerShareBps { get; set; }
    [Parameter("uint32", "supermajorityBps", 2)] public uint SupermajorityBps { get; set; }
    [Parameter("uint64", "agreementTolerance", 3)] public ulong AgreementTolerance { get; set; }
    [Parameter("uint32", "trainerSlashBps", 4)] public uint TrainerSlashBps { get; set; }
    [Parameter("uint32", "validatorNoRevealSlashBps", 5)] public uint ValidatorNoRevealSlashBps { get; set; }
    [Parameter("uint256", "emissionPerRound", 6)] public BigInteger EmissionPerRound { get; set; }
    [Parameter("uint64", "halvingRounds", 7)] public ulong HalvingRounds { get; set; }
}

[Function("relayOpenRound")]
internal sealed class RelayOpenRound : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes32", "modelHash", 5)] public byte[] ModelHash { get; set; } = [];
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relaySubmitUpdate")]
internal sealed class RelaySubmitUpdate : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes32", "updateHash", 5)] public byte[] UpdateHash { get; set; } = [];
    [Parameter("uint64", "samples", 6)] public ulong Samples { get; set; }
    [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
}

[Function("relayCloseTraining")]
internal sealed class RelayCloseTraining : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayCommitScores")]
internal sealed class RelayCommitScores : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes32", "commitment", 5)] public byte[] Commitment { get; set; } = [];
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relayCloseCommits")]
internal sealed class RelayCloseCommits : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("relayRevealScores")]
internal sealed class RelayRevealScores : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("uint256[]", "scores", 5)] public List<BigInteger> Scores { get; set; } = [];
    [Parameter("bytes32", "salt", 6)] public byte[] Salt { get; set; } = [];
    [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
}

[Function("relayFinalizeRound")]
internal sealed class RelayFinalizeRound : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "taskId", 3)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 4)] public uint Round { get; set; }
    [Parameter("bytes32", "newModelHash", 5)] public byte[] NewModelHash { get; set; } = [];
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("pick", "address[]")]
internal sealed class PickQuery : FunctionMessage
{
    [Parameter("address[]", "eligible", 1)] public List<string> Eligible { get; set; } = [];
    [Parameter("uint32", "count", 2)] public uint Count { get; set; }
    [Parameter("bytes32", "seed", 3)] public byte[] Seed { get; set; } = [];
    [Parameter("string", "purpose", 4)] public string Purpose { get; set; } = "";
}

[Function("roundOf")]
internal sealed class RoundOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
}

[FunctionOutput]
internal sealed class RoundOfOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "data", 1)] public RoundTuple Data { get; set; } = new();
    [Parameter("address[]", "pickedTrainers", 2)] public List<string> PickedTrainers { get; set; } = [];
    [Parameter("address[]", "pickedValidators", 3)] public List<string> PickedValidators { get; set; } = [];
    [Parameter("tuple[]", "updates", 4)] public List<UpdateTuple> Updates { get; set; } = [];
    [Parameter("address[]", "committers", 5)] public List<string> Committers { get; set; } = [];
    [Parameter("address[]", "revealers", 6)] public List<string> Revealers { get; set; } = [];
}

internal sealed class RoundTuple
{
    [Parameter("uint8", "phase", 1)] public byte Phase { get; set; }
    [Parameter("bytes32", "seed", 2)] public byte[] Seed { get; set; } = [];
    [Parameter("bytes32", "modelHash", 3)] public byte[] ModelHash { get; set; } = [];
    [Parameter("bytes32", "newModelHash", 4)] public byte[] NewModelHash { get; set; } = [];
    [Parameter("uint256", "reward", 5)] public BigInteger Reward { get; set; }
    [Parameter("uint64[4]", "phaseTimes", 6)] public List<ulong> PhaseTimes { get; set; } = [];
}

internal sealed class UpdateTuple
{
    [Parameter("address", "trainer", 1)] public string Trainer { get; set; } = "";
    [Parameter("bytes32", "updateHash", 2)] public byte[] UpdateHash { get; set; } = [];
    [Parameter("uint64", "samples", 3)] public ulong Samples { get; set; }
}

[Function("scoresOf", "uint256[]")]
internal sealed class ScoresOfQuery : FunctionMessage
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
    [Parameter("uint32", "round", 2)] public uint Round { get; set; }
    [Parameter("address", "validator", 3)] public string Validator { get; set; } = "";
}

[Function("emitted", "uint256")]
internal sealed class EmittedQuery : FunctionMessage;

[Function("burned", "uint256")]
internal sealed class BurnedQuery : FunctionMessage;

[Event("Applied")]
internal sealed class AppliedEvent : IEventDTO
{
    [Parameter("address", "from", 1, true)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2, false)] public ulong Nonce { get; set; }
    [Parameter("bytes32", "digest", 3, true)] public byte[] Digest { get; set; } = [];
}
