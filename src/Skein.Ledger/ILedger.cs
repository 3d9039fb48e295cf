using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger;

/// <summary>Where the chain is: its id, head block, state root and supply totals.</summary>
public sealed record LedgerStatus(ulong ChainId, ulong Height, Hash32 HeadHash, Hash32 StateRoot, UInt128 GenesisSupply, UInt128 Emitted, UInt128 Burned, int PendingTransactions)
{
    /// <summary>Every token held anywhere (balances, stakes, escrows, lease earnings, deposits, unbonding); equals genesis + emitted - burned.</summary>
    public UInt128 Held { get; init; }

    /// <summary>The head block's time (Unix ms).</summary>
    public long Timestamp { get; init; }

    /// <summary>Every token staked, own and delegated, in both roles.</summary>
    public UInt128 Staked { get; init; }

    /// <summary>The supply invariant, as anyone can check it from the status alone.</summary>
    public bool SupplyConserved => Held == GenesisSupply + Emitted - Burned;
}

/// <summary>Where a transaction landed.</summary>
public sealed record TxReceipt(Hash32 Id, ulong BlockHeight, int Index);

/// <summary>An operator's stake in one role and who delegated to it.</summary>
public sealed record StakeInfo(Address Operator, Role Role, UInt128 Self, UInt128 Delegated, uint CommissionBps, IReadOnlyList<(Address Delegator, UInt128 Amount)> Delegations);

/// <summary>A task as the ledger records it.</summary>
public sealed record TaskInfo(ulong Id, Address Creator, Hash32 SpecHash, UInt128 RewardPool, UInt128 Escrow, uint Rounds, uint SettledRounds, bool Completed,
    UInt128 MinStake, uint TrainersPerRound, uint ValidatorsPerRound, uint RejectBelow, Hash32 ModelHash, IReadOnlyList<Address> Trainers, IReadOnlyList<Address> Validators)
{
    /// <summary>A tournament task's rules; null for a federated task.</summary>
    public TournamentRules? Tournament { get; init; }

    /// <summary>Who opens and closes its rounds: the creator unless the creator handed the task over.</summary>
    public Address Coordinator { get; init; }

    /// <summary>Cancelled after the abandonment period: <see cref="Refunded"/> went back to the creator.</summary>
    public bool Cancelled { get; init; }

    public UInt128 Refunded { get; init; }

    /// <summary>The market height from which anyone may cancel the task if it makes no more progress (0 once it has ended).</summary>
    public ulong AbandonHeight { get; init; }

    /// <summary>Neither completed nor cancelled.</summary>
    public bool Live => !Completed && !Cancelled;
}

/// <summary>
/// What makes a task a tournament on the ledger: each trainer may submit up to <paramref name="SubmissionsPerTrainer"/>
/// adapters a window, trainers are paid by rank on a geometric series of ratio <paramref name="DecayBps"/>/10000, and
/// neither side (trainers, validators) gets less than <paramref name="SideFloorBps"/> of a window's reward.
/// </summary>
public sealed record TournamentRules(uint SubmissionsPerTrainer, uint DecayBps, uint SideFloorBps);

/// <summary>A round as the ledger records it: who was picked, what was submitted, and how it settled.</summary>
public sealed record RoundInfo(ulong TaskId, uint Round, RoundPhase Phase, Hash32 Seed, Hash32 ModelHash, Hash32 NewModelHash, UInt128 Reward,
    IReadOnlyList<Address> PickedTrainers, IReadOnlyList<Address> PickedValidators, IReadOnlyList<UpdateEntry> Updates,
    IReadOnlyList<Address> Committed, IReadOnlyList<Address> Revealed, IReadOnlyList<UpdateOutcome> Outcomes, IReadOnlyList<LedgerMovement> Movements)
{
    /// <summary>The revealed scores, per validator, one per update in submission order.</summary>
    public IReadOnlyDictionary<Address, IReadOnlyList<ulong>> Scores { get; init; } = new Dictionary<Address, IReadOnlyList<ulong>>();

    /// <summary>A settled tournament window's submitting trainers' role stakes as settlement used them (empty otherwise).</summary>
    public IReadOnlyDictionary<Address, UInt128> SettledTrainerStakes { get; init; } = new Dictionary<Address, UInt128>();

    /// <summary>A settled tournament window's revealed validators' role stakes as settlement used them (empty otherwise).</summary>
    public IReadOnlyDictionary<Address, UInt128> SettledValidatorStakes { get; init; } = new Dictionary<Address, UInt128>();

    /// <summary>When the round opened, its training closed, its commits closed and it settled (Unix ms of those blocks; 0: not yet).</summary>
    public IReadOnlyList<long> PhaseTimes { get; init; } = [0, 0, 0, 0];

    /// <summary>The market height from which anyone staked in the task may close the current phase (0 once settled).</summary>
    public ulong Deadline { get; init; }
}

/// <summary>A delegation: who staked behind whom, in which role, how much.</summary>
public sealed record DelegationInfo(Address Delegator, Address Operator, Role Role, UInt128 Amount);

/// <summary>Stake on its way back to a balance, released at a block height.</summary>
public sealed record UnbondingInfo(UInt128 Amount, ulong ReleaseHeight);

/// <summary>An account at a glance: balance, nonce, its stakes by role (with what is delegated to it), its delegations to others, and its unbonding.</summary>
public sealed record AccountInfo(Address Address, UInt128 Balance, ulong Nonce, IReadOnlyList<StakeInfo> Stakes, IReadOnlyList<DelegationInfo> DelegationsOut,
    IReadOnlyList<UnbondingInfo> Unbonding);

/// <summary>A block header with its hash.</summary>
public sealed record BlockInfo(ulong Height, Hash32 Hash, Hash32 PreviousHash, long Timestamp, Hash32 TxRoot, Hash32 StateRoot, int TxCount, IReadOnlyList<Hash32> TransactionIds);

/// <summary>
/// The ledger as its callers see it, whatever backs it: the embedded chain in SQLite, or an EVM chain through
/// contracts. Every method is asynchronous and cancellable; refusals are <see cref="LedgerException"/>s whose
/// code and message name the rule.
/// </summary>
public interface ILedger : IAsyncDisposable
{
    ulong ChainId { get; }

    Task<LedgerStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>Checks and applies a signed transaction and returns once it is in a committed block.</summary>
    Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default);

    Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default);

    Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default);

    Task<StakeInfo> GetStakeAsync(Address operatorAddress, Role role, CancellationToken cancellationToken = default);

    /// <summary>Balance, nonce, stakes in both roles, delegations out and unbonding of one account.</summary>
    Task<AccountInfo> GetAccountAsync(Address account, CancellationToken cancellationToken = default);

    Task<TaskInfo?> GetTaskAsync(ulong taskId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TaskInfo>> ListTasksAsync(CancellationToken cancellationToken = default);

    Task<RoundInfo?> GetRoundAsync(ulong taskId, uint round, CancellationToken cancellationToken = default);

    /// <summary>Rounds <paramref name="from"/> to <paramref name="to"/> of a task (those that exist), in one read.</summary>
    Task<IReadOnlyList<RoundInfo>> GetRoundsAsync(ulong taskId, uint from, uint to, CancellationToken cancellationToken = default);

    Task<BlockInfo?> GetBlockAsync(ulong height, CancellationToken cancellationToken = default);

    Task<(SignedTransaction Transaction, TxReceipt Receipt)?> GetTransactionAsync(Hash32 id, CancellationToken cancellationToken = default);

    /// <summary>The market's clock (market height: the blocks leases pay by) and rules.</summary>
    Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default);

    Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default);

    /// <summary>A deployment with its groups, orders, bids and leases, its escrow settled to the head block.</summary>
    Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default);

    /// <summary>Orders taking bids, for providers' bid engines.</summary>
    Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default);

    /// <summary>Governed parameters in force, the treasury, every proposal with its votes and tally, and released models.</summary>
    Task<Governance.GovernanceInfo> GetGovernanceAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("governance: this ledger backend does not hold proposals yet (the embedded ledger does)");
}
