using System.Text.Json.Serialization;
using Skein.Ledger.Crypto;

namespace Skein.Ledger.Transactions;

/// <summary>The role a stake backs: training (submitting updates) or validating (scoring them).</summary>
public enum Role : byte
{
    Trainer = 1,
    Validator = 2,
}

/// <summary>
/// A ledger transaction: who sends it, their next nonce, and a typed payload. Its identity and what its sender
/// signs is the EIP-712 digest over (chain id, type, every field), so a transaction cannot be replayed on another
/// chain, with another nonce, or with any field changed.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Transfer), "transfer")]
[JsonDerivedType(typeof(Stake), "stake")]
[JsonDerivedType(typeof(Unstake), "unstake")]
[JsonDerivedType(typeof(DelegateStake), "delegate")]
[JsonDerivedType(typeof(UndelegateStake), "undelegate")]
[JsonDerivedType(typeof(SetCommission), "set_commission")]
[JsonDerivedType(typeof(CreateTask), "create_task")]
[JsonDerivedType(typeof(CreateTournament), "create_tournament")]
[JsonDerivedType(typeof(JoinTask), "join_task")]
[JsonDerivedType(typeof(OpenRound), "open_round")]
[JsonDerivedType(typeof(SubmitUpdate), "submit_update")]
[JsonDerivedType(typeof(CloseTraining), "close_training")]
[JsonDerivedType(typeof(CommitScores), "commit_scores")]
[JsonDerivedType(typeof(CloseCommits), "close_commits")]
[JsonDerivedType(typeof(RevealScores), "reveal_scores")]
[JsonDerivedType(typeof(FinalizeRound), "finalize_round")]
[JsonDerivedType(typeof(CancelTask), "cancel_task")]
[JsonDerivedType(typeof(HandoverTask), "handover_task")]
[JsonDerivedType(typeof(LeaveTask), "leave_task")]
[JsonDerivedType(typeof(RegisterProvider), "register_provider")]
[JsonDerivedType(typeof(SignProviderAttributes), "sign_provider_attributes")]
[JsonDerivedType(typeof(CreateDeployment), "create_deployment")]
[JsonDerivedType(typeof(DepositDeployment), "deposit_deployment")]
[JsonDerivedType(typeof(CloseDeployment), "close_deployment")]
[JsonDerivedType(typeof(CreateBid), "create_bid")]
[JsonDerivedType(typeof(CloseBid), "close_bid")]
[JsonDerivedType(typeof(CreateLease), "create_lease")]
[JsonDerivedType(typeof(WithdrawLease), "withdraw_lease")]
[JsonDerivedType(typeof(CloseLease), "close_lease")]
[JsonDerivedType(typeof(SubmitProposal), "submit_proposal")]
[JsonDerivedType(typeof(VoteProposal), "vote_proposal")]
public abstract record Transaction
{
    public required Address From { get; init; }

    public required ulong Nonce { get; init; }

    /// <summary>The EIP-712 type, e.g. <c>Transfer(address from,uint64 nonce,address to,uint256 amount)</c>.</summary>
    [JsonIgnore]
    public abstract string TypeSignature { get; }

    /// <summary>The EIP-712 primary type name (the part of <see cref="TypeSignature"/> before the parenthesis).</summary>
    [JsonIgnore]
    public string TypeName => TypeSignature[..TypeSignature.IndexOf('(', StringComparison.Ordinal)];

    public byte[] StructHash()
    {
        var w = new Eip712Writer(Eip712.TypeHash(TypeSignature));
        w.Address(From);
        w.UInt(Nonce);
        EncodeFields(w);
        return w.HashStruct();
    }

    /// <summary>What the sender signs on chain <paramref name="chainId"/>; also the transaction's id.</summary>
    public Hash32 Digest(ulong chainId) => new(Eip712.Digest(chainId, StructHash()));

    /// <summary>Writes the payload fields, in <see cref="TypeSignature"/> order after from and nonce.</summary>
    protected abstract void EncodeFields(Eip712Writer writer);
}

/// <summary>Moves tokens from the sender's balance to another account.</summary>
public sealed record Transfer : Transaction
{
    public required Address To { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "Transfer(address from,uint64 nonce,address to,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(To);
        writer.UInt(Amount);
    }
}

/// <summary>Locks balance as the sender's own stake in a role.</summary>
public sealed record Stake : Transaction
{
    public required Role Role { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "Stake(address from,uint64 nonce,uint8 role,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt((byte)Role);
        writer.UInt(Amount);
    }
}

/// <summary>Starts unbonding some of the sender's own stake; it returns to the balance after the unbonding period.</summary>
public sealed record Unstake : Transaction
{
    public required Role Role { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "Unstake(address from,uint64 nonce,uint8 role,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt((byte)Role);
        writer.UInt(Amount);
    }
}

/// <summary>Stakes balance behind an operator's role: it shares that operator's rewards and slashes.</summary>
public sealed record DelegateStake : Transaction
{
    public required Address Operator { get; init; }

    public required Role Role { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "Delegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Operator);
        writer.UInt((byte)Role);
        writer.UInt(Amount);
    }
}

/// <summary>Starts unbonding a delegation.</summary>
public sealed record UndelegateStake : Transaction
{
    public required Address Operator { get; init; }

    public required Role Role { get; init; }

    public required UInt128 Amount { get; init; }

    public override string TypeSignature => "Undelegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Address(Operator);
        writer.UInt((byte)Role);
        writer.UInt(Amount);
    }
}

/// <summary>Sets the share of delegators' rewards (in basis points) the sender keeps as operator.</summary>
public sealed record SetCommission : Transaction
{
    public required uint CommissionBps { get; init; }

    public override string TypeSignature => "SetCommission(address from,uint64 nonce,uint16 commissionBps)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(CommissionBps);
    }
}

/// <summary>
/// Publishes a task: the hash of its spec (model, data schema, strategy; validated off-ledger), the reward pool
/// escrowed from the sender's balance, its round count and its participation rules. The sender coordinates it.
/// </summary>
public sealed record CreateTask : Transaction
{
    public required Hash32 SpecHash { get; init; }

    public required UInt128 RewardPool { get; init; }

    public required uint Rounds { get; init; }

    public required UInt128 MinStake { get; init; }

    public required uint TrainersPerRound { get; init; }

    public required uint ValidatorsPerRound { get; init; }

    /// <summary>Scores (parts per million) below this are votes to reject an update.</summary>
    public required uint RejectBelow { get; init; }

    public override string TypeSignature =>
        "CreateTask(address from,uint64 nonce,bytes32 specHash,uint256 rewardPool,uint32 rounds,uint256 minStake,uint32 trainersPerRound,uint32 validatorsPerRound,uint32 rejectBelow)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Bytes32(SpecHash);
        writer.UInt(RewardPool);
        writer.UInt(Rounds);
        writer.UInt(MinStake);
        writer.UInt(TrainersPerRound);
        writer.UInt(ValidatorsPerRound);
        writer.UInt(RejectBelow);
    }
}

/// <summary>
/// Creates a tournament task: every joined trainer fine-tunes on its own and submits up to
/// <see cref="SubmissionsPerTrainer"/> adapters a window; validators score each; the window's pool is paid by rank
/// (docs/incentives.md, "Tournament tasks"). Each window is a round of the round protocol.
/// </summary>
public sealed record CreateTournament : Transaction
{
    public required Hash32 SpecHash { get; init; }

    public required UInt128 RewardPool { get; init; }

    /// <summary>Submission windows; the pool is shared between them as between a federated task's rounds.</summary>
    public required uint Windows { get; init; }

    public required UInt128 MinStake { get; init; }

    /// <summary>How many submissions one trainer may make in one window.</summary>
    public required uint SubmissionsPerTrainer { get; init; }

    public required uint ValidatorsPerRound { get; init; }

    /// <summary>Consensus scores (parts per million) below this are votes to reject a submission, and a supermajority of them slashes its trainer.</summary>
    public required uint RejectBelow { get; init; }

    /// <summary>The ratio of the rank weights' geometric series, in basis points (position k weighs (decay/10000)^k).</summary>
    public required uint DecayBps { get; init; }

    /// <summary>The least share of a window's reward each side (trainers, validators) gets, in basis points (at most 5000).</summary>
    public required uint SideFloorBps { get; init; }

    public override string TypeSignature =>
        "CreateTournament(address from,uint64 nonce,bytes32 specHash,uint256 rewardPool,uint32 windows,uint256 minStake,uint32 submissionsPerTrainer,uint32 validatorsPerRound,uint32 rejectBelow,uint32 decayBps,uint32 sideFloorBps)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Bytes32(SpecHash);
        writer.UInt(RewardPool);
        writer.UInt(Windows);
        writer.UInt(MinStake);
        writer.UInt(SubmissionsPerTrainer);
        writer.UInt(ValidatorsPerRound);
        writer.UInt(RejectBelow);
        writer.UInt(DecayBps);
        writer.UInt(SideFloorBps);
    }
}

/// <summary>Joins a task in a role; the sender's stake in that role must meet the task's minimum.</summary>
public sealed record JoinTask : Transaction
{
    public required ulong TaskId { get; init; }

    public required Role Role { get; init; }

    public override string TypeSignature => "JoinTask(address from,uint64 nonce,uint64 taskId,uint8 role)";

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(TaskId);
        writer.UInt((byte)Role);
    }
}

/// <summary>Base of the transactions about one round of one task.</summary>
public abstract record RoundTransaction : Transaction
{
    public required ulong TaskId { get; init; }

    public required uint Round { get; init; }

    protected override void EncodeFields(Eip712Writer writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt(TaskId);
        writer.UInt(Round);
        EncodeRoundFields(writer);
    }

    protected virtual void EncodeRoundFields(Eip712Writer writer)
    {
    }
}

/// <summary>The coordinator opens round r on the global model H(r-1); the ledger derives the selection seed.</summary>
public sealed record OpenRound : RoundTransaction
{
    public required Hash32 ModelHash { get; init; }

    public override string TypeSignature => "OpenRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 modelHash)";

    protected override void EncodeRoundFields(Eip712Writer writer) => writer.Bytes32(ModelHash);
}

/// <summary>A picked trainer commits to its update (by the hash of its safetensors bytes) and sample count.</summary>
public sealed record SubmitUpdate : RoundTransaction
{
    public required Hash32 UpdateHash { get; init; }

    public required ulong Samples { get; init; }

    public override string TypeSignature => "SubmitUpdate(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 updateHash,uint64 samples)";

    protected override void EncodeRoundFields(Eip712Writer writer)
    {
        writer.Bytes32(UpdateHash);
        writer.UInt(Samples);
    }
}

/// <summary>Ends the training phase: no more updates; validators may commit scores. The coordinator's, or anyone staked in the task's after the phase's deadline.</summary>
public sealed record CloseTraining : RoundTransaction
{
    public override string TypeSignature => "CloseTraining(address from,uint64 nonce,uint64 taskId,uint32 round)";
}

/// <summary>A picked validator commits to its scores: keccak256 of (task, round, validator, scores, salt).</summary>
public sealed record CommitScores : RoundTransaction
{
    public required Hash32 Commitment { get; init; }

    public override string TypeSignature => "CommitScores(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 commitment)";

    protected override void EncodeRoundFields(Eip712Writer writer) => writer.Bytes32(Commitment);
}

/// <summary>Ends the commit phase: validators may reveal. The coordinator's, or anyone staked in the task's after the phase's deadline.</summary>
public sealed record CloseCommits : RoundTransaction
{
    public override string TypeSignature => "CloseCommits(address from,uint64 nonce,uint64 taskId,uint32 round)";
}

/// <summary>A validator reveals its scores (parts per million, one per update in submission order) and salt.</summary>
public sealed record RevealScores : RoundTransaction
{
    public required IReadOnlyList<ulong> Scores { get; init; }

    public required Hash32 Salt { get; init; }

    public override string TypeSignature => "RevealScores(address from,uint64 nonce,uint64 taskId,uint32 round,uint256[] scores,bytes32 salt)";

    protected override void EncodeRoundFields(Eip712Writer writer)
    {
        writer.UIntArray(Scores);
        writer.Bytes32(Salt);
    }
}

/// <summary>Ends the round: consensus, rejection, rewards and slashes; records the new model hash. The coordinator's, or anyone staked in the task's after the reveal deadline.</summary>
public sealed record FinalizeRound : RoundTransaction
{
    public required Hash32 NewModelHash { get; init; }

    public override string TypeSignature => "FinalizeRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 newModelHash)";

    protected override void EncodeRoundFields(Eip712Writer writer) => writer.Bytes32(NewModelHash);
}
