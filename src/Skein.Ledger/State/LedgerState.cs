using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.State;

/// <summary>An account's spendable balance and the nonce its next transaction must carry.</summary>
public sealed class Account
{
    public UInt128 Balance { get; set; }

    public ulong Nonce { get; set; }
}

/// <summary>An operator's stake in one role: its own, and the total delegated to it.</summary>
public sealed class RoleStake
{
    public UInt128 Self { get; set; }

    public UInt128 Delegated { get; set; }

    public UInt128 Total => Self + Delegated;
}

/// <summary>Stake on its way back to a balance: released when the chain reaches <see cref="ReleaseHeight"/>.</summary>
public sealed record Unbonding(ulong Sequence, Address Owner, UInt128 Amount, ulong ReleaseHeight);

/// <summary>The phases of a round, in order.</summary>
public enum RoundPhase : byte
{
    Training = 1,
    Committing = 2,
    Revealing = 3,
    Settled = 4,
}

/// <summary>A trainer's committed update in a round.</summary>
public sealed record UpdateEntry(Address Trainer, Hash32 UpdateHash, ulong Samples);

/// <summary>What settling a round decided for one update.</summary>
public sealed record UpdateOutcome(Address Trainer, Hash32 UpdateHash, ulong ConsensusScore, bool Accepted, UInt128 Reward);

/// <summary>One payout or slash of a settled round, traceable to the update or score that caused it.</summary>
public sealed record LedgerMovement(Address Account, string Kind, UInt128 Amount, string Reason);

/// <summary>One round of a task, from opening to settlement.</summary>
public sealed class RoundState
{
    public required uint Round { get; init; }

    public required Hash32 Seed { get; init; }

    public required Hash32 ModelHash { get; init; }

    public required IReadOnlyList<Address> PickedTrainers { get; init; }

    public required IReadOnlyList<Address> PickedValidators { get; init; }

    public RoundPhase Phase { get; set; } = RoundPhase.Training;

    public List<UpdateEntry> Updates { get; } = [];

    public SortedDictionary<Address, Hash32> Commitments { get; } = [];

    public SortedDictionary<Address, ulong[]> Reveals { get; } = [];

    public Hash32 NewModelHash { get; set; } = Hash32.Zero;

    public UInt128 Reward { get; set; }

    public List<UpdateOutcome> Outcomes { get; } = [];

    public List<LedgerMovement> Movements { get; } = [];

    /// <summary>
    /// A tournament window's settlement inputs that change with settlement itself: each submitting trainer's role stake
    /// and each revealed validator's, as they were when the window settled, so that anyone can recompute its payouts.
    /// </summary>
    public SortedDictionary<Address, UInt128> SettledTrainerStakes { get; } = [];

    /// <inheritdoc cref="SettledTrainerStakes"/>
    public SortedDictionary<Address, UInt128> SettledValidatorStakes { get; } = [];

    /// <summary>
    /// When each phase began, from the times of the blocks that opened and closed them (Unix ms): opened, training
    /// closed, commits closed, settled. Derived from block headers, which are hashed, so they are not part of the state root.
    /// </summary>
    public long[] PhaseTimes { get; } = new long[4];

    /// <summary>
    /// The market height from which anyone staked in the task may close the current phase (0 once settled): set when
    /// the phase opens, from the liveness rules then in force. Derived from block times like <see cref="PhaseTimes"/>.
    /// </summary>
    public ulong Deadline { get; set; }
}

/// <summary>A task on the ledger: its spec hash, escrowed pool, rules, members and rounds.</summary>
public sealed class TaskState
{
    public required ulong Id { get; init; }

    public required Address Creator { get; init; }

    /// <summary>Who opens and closes its rounds: the creator, until the creator hands the task over to another address.</summary>
    public Address Coordinator { get; set; }

    /// <summary>Cancelled after it made no progress for the abandonment period: its unpaid pool went back to the creator.</summary>
    public bool Cancelled { get; set; }

    /// <summary>What the cancellation returned to the creator.</summary>
    public UInt128 Refunded { get; set; }

    /// <summary>The market height of its last progress (creation, or a phase change): the abandonment period counts from it. Derived from block times.</summary>
    public ulong LastProgress { get; set; }

    public required Hash32 SpecHash { get; init; }

    public required UInt128 RewardPool { get; set; }

    public required uint Rounds { get; init; }

    public required UInt128 MinStake { get; init; }

    public required uint TrainersPerRound { get; init; }

    public required uint ValidatorsPerRound { get; init; }

    public required uint RejectBelow { get; init; }

    /// <summary>Set for a tournament task (created by create_tournament): its windows are settled by rank.</summary>
    public TournamentRules? Tournament { get; init; }

    /// <summary>What is left of the pool; paid out round by round, the rest returned to the creator at the end.</summary>
    public UInt128 Escrow { get; set; }

    public uint SettledRounds { get; set; }

    public bool Completed { get; set; }

    public Hash32 ModelHash { get; set; } = Hash32.Zero;

    /// <summary>Created while <c>governance.task_approval</c> was on: it opens no round until a task_approval proposal for it passes.</summary>
    public bool NeedsApproval { get; init; }

    public bool Approved { get; set; }

    /// <summary>Its approval failed: closed, its pool returned to the creator.</summary>
    public bool Refused { get; set; }

    public List<Governance.ModelReleaseInfo> Releases { get; } = [];

    public SortedSet<Address> Trainers { get; } = [];

    public SortedSet<Address> Validators { get; } = [];

    public SortedDictionary<uint, RoundState> RoundStates { get; } = [];

    /// <summary>The pool's share for round r: floor(pool / rounds), the last round taking the remainder.</summary>
    public UInt128 PoolShare(uint round) =>
        round < Rounds ? RewardPool / Rounds : RewardPool - (RewardPool / Rounds * (Rounds - 1));
}

/// <summary>
/// The whole ledger state after some block. Every collection is sorted, so that iteration, and therefore the
/// state root and every rule that walks a collection, is the same on every machine.
/// </summary>
public sealed class LedgerState
{
    public required ulong ChainId { get; init; }

    /// <summary>The rules in force: the genesis's, as passed parameter_change proposals have changed them since.</summary>
    public required LedgerParams Params { get; set; }

    /// <summary>The rules the genesis set, before any proposal changed them.</summary>
    public LedgerParams GenesisParams { get; init; } = LedgerParams.Default;

    public required UInt128 GenesisSupply { get; init; }

    public ulong Height { get; set; }

    public Hash32 LastBlockHash { get; set; } = Hash32.Zero;

    /// <summary>The genesis time (Unix ms), from which the market counts its blocks.</summary>
    public long GenesisTimestamp { get; init; }

    /// <summary>The time of the block being applied (Unix ms, from its header).</summary>
    public long BlockTimestamp { get; set; }

    /// <summary>The block being applied in market blocks: whole block intervals since genesis (what leases pay by).</summary>
    public ulong MarketHeight { get; set; }

    public MarketState Market { get; } = new();

    public SortedDictionary<Address, Account> Accounts { get; } = [];

    public SortedDictionary<(Address Operator, Role Role), RoleStake> Stakes { get; } = [];

    public SortedDictionary<(Address Delegator, Address Operator, Role Role), UInt128> Delegations { get; } = [];

    public SortedDictionary<Address, uint> Commissions { get; } = [];

    public List<Unbonding> Unbondings { get; } = [];

    public ulong NextUnbondingSequence { get; set; }

    public SortedDictionary<ulong, TaskState> Tasks { get; } = [];

    public ulong NextTaskId { get; set; } = 1;

    public UInt128 Emitted { get; set; }

    /// <summary>The community treasury: fed by the governed shares of emission and slashes, spent only by passed proposals.</summary>
    public UInt128 Treasury { get; set; }

    public SortedDictionary<ulong, Governance.ProposalState> Proposals { get; } = [];

    public ulong NextProposalId { get; set; } = 1;

    public UInt128 Burned { get; set; }

    /// <summary>Rounds settled on the whole chain: the clock of the emission schedule.</summary>
    public ulong SettledRounds { get; set; }

    public static LedgerState FromGenesis(Genesis genesis)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        if (genesis.Validate() is { } error)
        {
            throw new LedgerException(LedgerError.InvalidGenesis, error);
        }
        var state = new LedgerState { ChainId = genesis.ChainId, Params = genesis.Params, GenesisParams = genesis.Params, GenesisSupply = genesis.Supply, GenesisTimestamp = genesis.Timestamp, BlockTimestamp = genesis.Timestamp };
        foreach (var a in genesis.Allocations)
        {
            state.Account(a.Address).Balance = a.Balance;
        }
        return state;
    }

    public Account Account(Address address)
    {
        if (!Accounts.TryGetValue(address, out var account))
        {
            account = new Account();
            Accounts[address] = account;
        }
        return account;
    }

    public UInt128 BalanceOf(Address address) => Accounts.TryGetValue(address, out var a) ? a.Balance : UInt128.Zero;

    public ulong NonceOf(Address address) => Accounts.TryGetValue(address, out var a) ? a.Nonce : 0;

    public RoleStake StakeOf(Address operatorAddress, Role role) =>
        Stakes.TryGetValue((operatorAddress, role), out var s) ? s : new RoleStake();

    public IReadOnlyList<(Address Delegator, UInt128 Amount)> DelegationsTo(Address operatorAddress, Role role) =>
        Delegations.Where(d => d.Key.Operator == operatorAddress && d.Key.Role == role && d.Value > 0)
            .Select(d => (d.Key.Delegator, d.Value)).ToArray();

    public uint CommissionOf(Address operatorAddress) => Commissions.TryGetValue(operatorAddress, out var c) ? c : 0;

    /// <summary>Every token, wherever it is: balances, stakes, delegations, task escrows, unbonding, proposal deposits, the treasury, and the market's escrows, lease earnings and bid deposits.</summary>
    public UInt128 TotalHeld()
    {
        UInt128 total = 0;
        foreach (var a in Accounts.Values)
        {
            total += a.Balance;
        }
        foreach (var s in Stakes.Values)
        {
            total += s.Self;
        }
        foreach (var d in Delegations.Values)
        {
            total += d;
        }
        foreach (var t in Tasks.Values)
        {
            total += t.Escrow;
        }
        foreach (var u in Unbondings)
        {
            total += u.Amount;
        }
        foreach (var p in Proposals.Values)
        {
            if (p.Status == Governance.ProposalStatus.Voting)
            {
                total += p.Deposit;
            }
        }
        return total + Treasury + Market.TotalHeld();
    }

    /// <summary>The supply invariant: everything held equals genesis + emitted - burned.</summary>
    public bool SupplyIsConserved() => TotalHeld() == GenesisSupply + Emitted - Burned;
}
