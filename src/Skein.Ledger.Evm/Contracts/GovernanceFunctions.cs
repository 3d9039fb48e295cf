using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace Skein.Ledger.Evm.Contracts;

// SkeinGovernance.sol: its deployment, relayed entry points, views and custom errors; and the views of SkeinLedger
// and SkeinTasks that governance reads (stake checkpoints, task approval).

internal sealed class GovernanceDeployment : ContractDeploymentMessage
{
    public GovernanceDeployment()
        : base(ContractArtifact.Load("SkeinGovernance").Bytecode)
    {
    }

    [Parameter("address", "ledger_", 1)] public string Ledger { get; set; } = "";
    [Parameter("tuple", "rules_", 2)] public GovernanceRulesTuple Rules { get; set; } = new();
}

/// <summary>SkeinGovernance.Rules.</summary>
internal sealed class GovernanceRulesTuple
{
    [Parameter("uint256", "minDeposit", 1)] public BigInteger MinDeposit { get; set; }
    [Parameter("uint64", "votingPeriodBlocks", 2)] public ulong VotingPeriodBlocks { get; set; }
    [Parameter("uint16", "quorumBps", 3)] public ushort QuorumBps { get; set; }
    [Parameter("uint16", "thresholdBps", 4)] public ushort ThresholdBps { get; set; }
    [Parameter("uint16", "vetoBps", 5)] public ushort VetoBps { get; set; }
    [Parameter("uint256", "maxSupply", 6)] public BigInteger MaxSupply { get; set; }
}

/// <summary>SkeinGovernance.ProposalInput: the signed fields of a SubmitProposal.</summary>
internal sealed class ProposalInputTuple
{
    [Parameter("uint8", "kind", 1)] public byte Kind { get; set; }
    [Parameter("string", "parameter", 2)] public string Parameter { get; set; } = "";
    [Parameter("uint256", "value", 3)] public BigInteger Value { get; set; }
    [Parameter("uint64", "taskId", 4)] public ulong TaskId { get; set; }
    [Parameter("bytes32", "modelHash", 5)] public byte[] ModelHash { get; set; } = new byte[32];
    [Parameter("string", "name", 6)] public string Name { get; set; } = "";
    [Parameter("string", "license", 7)] public string License { get; set; } = "";
    [Parameter("address", "recipient", 8)] public string Recipient { get; set; } = "";
    [Parameter("uint256", "amount", 9)] public BigInteger Amount { get; set; }
    [Parameter("uint256", "deposit", 10)] public BigInteger Deposit { get; set; }
}

[Function("relaySubmitProposal")]
internal sealed class RelaySubmitProposal : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("tuple", "p", 3)] public ProposalInputTuple Proposal { get; set; } = new();
    [Parameter("bytes", "signature", 4)] public byte[] Signature { get; set; } = [];
}

[Function("relayVoteProposal")]
internal sealed class RelayVoteProposal : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "proposalId", 3)] public ulong ProposalId { get; set; }
    [Parameter("uint8", "option", 4)] public byte Option { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

[Function("endVoting")]
internal sealed class EndVotingFunction : FunctionMessage;

[Function("governance", "address")]
internal sealed class GovernanceQuery : FunctionMessage;

[Function("nextProposalId", "uint64")]
internal sealed class NextProposalIdQuery : FunctionMessage;

[Function("treasury", "uint256")]
internal sealed class TreasuryQuery : FunctionMessage;

[Function("parameters", "uint256[21]")]
internal sealed class ParametersQuery : FunctionMessage;

[Function("chainParams")]
internal sealed class ChainParamsQuery : FunctionMessage;

[FunctionOutput]
internal sealed class ChainParamsOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "", 1)] public ChainParamsTuple Chain { get; set; } = new();
}

[Function("proposalOf")]
internal sealed class ProposalOfQuery : FunctionMessage
{
    [Parameter("uint64", "proposalId", 1)] public ulong ProposalId { get; set; }
}

[FunctionOutput]
internal sealed class ProposalOfOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "proposal", 1)] public ProposalTuple Proposal { get; set; } = new();
    [Parameter("address[]", "voters", 2)] public List<string> Voters { get; set; } = [];
    [Parameter("uint8[]", "options", 3)] public List<byte> Options { get; set; } = [];
}

/// <summary>SkeinGovernance.Proposal.</summary>
internal sealed class ProposalTuple
{
    [Parameter("tuple", "input", 1)] public ProposalInputTuple Input { get; set; } = new();
    [Parameter("address", "proposer", 2)] public string Proposer { get; set; } = "";
    [Parameter("uint64", "startHeight", 3)] public ulong StartHeight { get; set; }
    [Parameter("uint64", "endHeight", 4)] public ulong EndHeight { get; set; }
    [Parameter("uint64", "decidedHeight", 5)] public ulong DecidedHeight { get; set; }
    [Parameter("uint8", "status", 6)] public byte Status { get; set; }
    [Parameter("uint8", "failure", 7)] public byte Failure { get; set; }
    [Parameter("bool", "quorum", 8)] public bool Quorum { get; set; }
    [Parameter("uint256[4]", "tally", 9)] public List<BigInteger> Tally { get; set; } = [];
    [Parameter("uint256", "totalPower", 10)] public BigInteger TotalPower { get; set; }
}

[Function("ownStakeAt", "uint256")]
internal sealed class OwnStakeAtQuery : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint48", "height", 2)] public ulong Height { get; set; }
}

[Function("delegationAt", "uint256")]
internal sealed class DelegationAtQuery : FunctionMessage
{
    [Parameter("address", "delegator", 1)] public string Delegator { get; set; } = "";
    [Parameter("address", "operator", 2)] public string Operator { get; set; } = "";
    [Parameter("uint48", "height", 3)] public ulong Height { get; set; }
}

[Function("stakedAt", "uint256")]
internal sealed class StakedAtQuery : FunctionMessage
{
    [Parameter("uint48", "height", 1)] public ulong Height { get; set; }
}

[Function("delegationLinks")]
internal sealed class DelegationLinksQuery : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

[FunctionOutput]
internal sealed class DelegationLinksOutput : IFunctionOutputDTO
{
    [Parameter("address[]", "operators", 1)] public List<string> Operators { get; set; } = [];
    [Parameter("address[]", "delegators", 2)] public List<string> Delegators { get; set; } = [];
}

[Function("approval", "uint8")]
internal sealed class ApprovalQuery : FunctionMessage
{
    [Parameter("uint64", "", 1)] public ulong TaskId { get; set; }
}

[Error("ProposalRefused")]
internal sealed class ProposalRefusedError
{
    [Parameter("uint8", "code", 1)] public byte Code { get; set; }
}

[Error("UnknownProposal")]
internal sealed class UnknownProposalError
{
    [Parameter("uint64", "proposalId", 1)] public ulong ProposalId { get; set; }
}

[Error("VotingClosed")]
internal sealed class VotingClosedError
{
    [Parameter("uint64", "proposalId", 1)] public ulong ProposalId { get; set; }
    [Parameter("uint64", "endHeight", 2)] public ulong EndHeight { get; set; }
}

[Error("NoVotingPower")]
internal sealed class NoVotingPowerError
{
    [Parameter("address", "voter", 1)] public string Voter { get; set; } = "";
}

[Error("AwaitingApproval")]
internal sealed class AwaitingApprovalError
{
    [Parameter("uint64", "taskId", 1)] public ulong TaskId { get; set; }
}
