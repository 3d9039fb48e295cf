using System.Text.Json;
using System.Text.Json.Serialization;
using Skein.Core.Json;
using Skein.Ledger;

namespace Skein.Coordinator.Api;

/// <summary>The chain and the coordinator at a glance (<c>GET /api/status</c>).</summary>
public sealed record ApiStatus(ulong ChainId, ulong Height, string HeadHash, string StateRoot, string Coordinator, int Tasks)
{
    /// <summary>Tokens at genesis, emitted, burned and held (all as exact decimal strings); held = genesis + emitted - burned.</summary>
    public ApiSupply? Supply { get; init; }

    /// <summary>The head block's time (Unix ms).</summary>
    public long Time { get; init; }

    /// <summary>Tokens staked in both roles, own and delegated.</summary>
    public string? Staked { get; init; }

    /// <summary>Nodes that called this coordinator within the last two minutes.</summary>
    public int NodesOnline { get; init; }

    /// <summary>Where the ledger lives: the embedded chain, or contracts on an EVM chain (which anyone can read through a node of their own).</summary>
    public ApiLedgerBackend? Ledger { get; init; }
}

/// <summary>Governance as the ledger holds it (<c>GET /api/governance</c>); <c>Supported</c> is false on a backend without proposals yet.</summary>
public sealed record ApiGovernance(bool Supported, IReadOnlyList<ApiGovernedParameter> Parameters, string Treasury, IReadOnlyList<ApiProposal> Proposals, IReadOnlyList<ApiRelease> Releases);

/// <summary>A governed parameter's value in force and the range a proposal must keep it in.</summary>
public sealed record ApiGovernedParameter(string Name, string Value, string Min, string Max, string Meaning);

/// <summary>A proposal with its count: final once decided, else as it stands under the rules in force.</summary>
public sealed record ApiProposal(ulong Id, string Kind, string Proposer, string Deposit, ulong StartHeight, ulong EndHeight, string Status, string Outcome, string Asks,
    int Votes, string Yes, string Abstain, string No, string NoWithVeto, string TotalPower, bool Final, bool QuorumReached, bool Vetoed, bool Passed)
{
    /// <summary>The account named by <c>?voter=</c>: its power in this proposal's snapshot and its vote, if any (absent without <c>?voter=</c>).</summary>
    public ApiVoter? Voter { get; init; }
}

/// <summary>One account in a proposal: the power it held when the proposal started, and its vote (yes, abstain, no, no_with_veto) or null.</summary>
public sealed record ApiVoter(string Address, string Power, string? Option);

/// <summary>A model a passed model_release proposal marked as a task's released version.</summary>
public sealed record ApiRelease(ulong TaskId, string ModelHash, string Name, string License, ulong ProposalId, ulong Height);

/// <summary>The ledger's backend: "embedded", or "evm" with its SkeinLedger, SkeinTasks and SkeinMarket contracts.</summary>
public sealed record ApiLedgerBackend(string Backend, string? Contract = null, string? TasksContract = null, string? MarketContract = null, string? GovernanceContract = null);

/// <summary>
/// One round of a task at a glance (<c>GET /api/tasks/{id}/rounds</c>): its phase, counts, new model, when each phase
/// began (Unix ms of the blocks), the median consensus score of its updates (ppm), and the new model's accuracy and
/// loss on the coordinator's public test set where it has one.
/// </summary>
public sealed record ApiRoundSummary(uint Round, string Phase, int PickedTrainers, int Updates, int Accepted, int Rejected, int PickedValidators, int Committed,
    int Revealed, string? NewModelHash, IReadOnlyList<long> PhaseTimes, ulong? MedianConsensus, double? Accuracy, double? Loss, string Reward);

/// <summary>An account (<c>GET /api/accounts/{address}</c>): balance, stakes, delegations, unbonding, and every update, score, reward and slash it had.</summary>
public sealed record ApiAccount(string Address, string Balance, ulong Nonce, IReadOnlyList<ApiStake> Stakes, IReadOnlyList<ApiDelegation> DelegationsOut,
    IReadOnlyList<ApiUnbonding> Unbonding, IReadOnlyList<ApiAccountEvent> History);

/// <summary>A stake in one role: own, delegated, the commission, and who delegated.</summary>
public sealed record ApiStake(string Role, string Self, string Delegated, uint CommissionBps, IReadOnlyList<ApiDelegation> DelegationsIn);

/// <summary>A delegation between two accounts in a role.</summary>
public sealed record ApiDelegation(string Delegator, string Operator, string Role, string Amount);

/// <summary>Stake on its way back, released at a height.</summary>
public sealed record ApiUnbonding(string Amount, ulong ReleaseHeight);

/// <summary>Something that happened to an account in a round: an update (with its verdict), a reveal or a missed one, a reward, a slash.</summary>
public sealed record ApiAccountEvent(ulong Task, uint Round, string Kind, string? Amount, string Detail);

/// <summary>The chain's supply figures; <see cref="Conserved"/> is the invariant anyone can check.</summary>
public sealed record ApiSupply(string Genesis, string Emitted, string Burned, string Held, bool Conserved);

/// <summary>A task as the ledger records it, with its spec when this coordinator hosts it (<c>GET /api/tasks/{id}</c>).</summary>
public sealed record ApiTask(
    ulong Id, string Name, string Creator, string SpecHash, uint Rounds, uint SettledRounds, bool Completed, string ModelHash,
    string RewardPool, string Escrow, IReadOnlyList<string> Trainers, IReadOnlyList<string> Validators, string? Spec)
{
    /// <summary>
    /// The newest round whose model the coordinator has tested (accuracy and loss in the round summaries), 0 if none:
    /// metrics arrive after a round settles, so a client caching settled rounds knows which to fetch again.
    /// </summary>
    public uint MetricsThrough { get; init; }

    /// <summary>A tournament's rules on the ledger (null for a federated task).</summary>
    public TournamentRules? Tournament { get; init; }

    /// <summary>The ledger's reject threshold, parts per million.</summary>
    public uint RejectBelow { get; init; }

    /// <summary>Who opens and closes its rounds: the creator unless the creator handed the task over (null from older coordinators).</summary>
    public string? Coordinator { get; init; }

    /// <summary>Cancelled after the abandonment period; <see cref="Refunded"/> went back to the creator.</summary>
    public bool Cancelled { get; init; }

    public string? Refunded { get; init; }

    /// <summary>The market height from which anyone may cancel the task if it makes no more progress (0 once it has ended).</summary>
    public ulong AbandonHeight { get; init; }
}

/// <summary>One submitted update and, once settled, its verdict.</summary>
public sealed record ApiUpdate(string Trainer, string Hash, ulong Samples, ulong? ConsensusPpm, bool? Accepted, string? Reward);

/// <summary>One balance movement of a settled round (reward, slash, refund).</summary>
public sealed record ApiMovement(string Account, string Kind, string Amount, string Reason);

/// <summary>A round as the ledger records it (<c>GET /api/tasks/{id}/rounds/{r}</c>).</summary>
public sealed record ApiRound(
    ulong Task, uint Round, string Phase, string Seed, string ModelHash, string? NewModelHash,
    IReadOnlyList<string> PickedTrainers, IReadOnlyList<string> PickedValidators, IReadOnlyList<ApiUpdate> Updates,
    IReadOnlyList<string> Committed, IReadOnlyList<string> Revealed, IReadOnlyList<ApiMovement> Movements)
{
    /// <summary>Each revealing validator's scores (ppm), one per update in submission order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ulong>>? Scores { get; init; }

    /// <summary>When the round opened, its training closed, its commits closed and it settled (Unix ms; 0: not yet).</summary>
    public IReadOnlyList<long>? PhaseTimes { get; init; }

    /// <summary>The market height from which anyone staked in the task may close the current phase (0 once settled).</summary>
    public ulong Deadline { get; init; }

    /// <summary>The round's reward (its pool share plus emission), in base units, once settled.</summary>
    public string? RewardUnits { get; init; }

    /// <summary>A settled tournament window's trainers' role stakes as settlement used them, in base units.</summary>
    public IReadOnlyDictionary<string, string>? SettledTrainerStakes { get; init; }

    /// <summary>A settled tournament window's revealed validators' role stakes as settlement used them, in base units.</summary>
    public IReadOnlyDictionary<string, string>? SettledValidatorStakes { get; init; }
}

/// <summary>
/// One participant of a task, per role, over its settled rounds: updates accepted and rejected (trainers), rounds
/// revealed and missed (validators), and the tokens earned and slashed (<c>GET /api/tasks/{id}/leaderboard</c>).
/// </summary>
public sealed record ApiLeaderboardEntry(string Address, string Role, int Accepted, int Rejected, int Revealed, int Missed, string Rewards, string Slashed)
{
    /// <summary>A validator's agreement with consensus: one million minus the mean distance of its scores from the settled consensus (ppm).</summary>
    public ulong? AgreementPpm { get; init; }
}

/// <summary>The JSON conventions of the HTTP API: snake_case names, nulls left out, NaN and infinities as null.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    }.WithNonFiniteAsNull();
}
