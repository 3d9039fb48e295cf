using System.Buffers.Binary;
using Skein.Core;
using Skein.Ledger.Crypto;
using Skein.Ledger.Incentives;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.State;

/// <summary>The block a transaction is applied in: its height, the hash of the block before it, and its time (Unix ms).</summary>
public readonly record struct BlockContext(ulong Height, Hash32 PreviousBlockHash, long Timestamp = 0);

/// <summary>
/// The ledger's rules: applies one signed transaction to the state, or refuses it with a <see cref="LedgerException"/>
/// naming the rule and leaves the state exactly as it was. Every check of a transaction runs before its first
/// change, so a refusal never leaves half a transaction behind. Integer arithmetic only.
/// </summary>
public static class StateMachine
{
    /// <summary>
    /// The first step of every block: the block's time sets the market height; unbonded stake that has matured is
    /// released; the market closes leases whose escrow ran dry and bids that timed out.
    /// </summary>
    public static void BeginBlock(LedgerState state, BlockContext block)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.BlockTimestamp = Math.Max(state.BlockTimestamp, block.Timestamp);
        state.MarketHeight = state.Params.MarketRules.MarketHeight(state.BlockTimestamp, state.GenesisTimestamp);
        Release(state, block);
        if (state.Proposals.Count > 0)
        {
            Governance.GovernanceRules.EndVoting(state, block);
        }
        if (!state.Market.IsEmpty)
        {
            MarketRules.BeginBlock(state);
        }
    }

    private static void Release(LedgerState state, BlockContext block)
    {
        if (state.Unbondings.Count == 0)
        {
            return;
        }
        var matured = state.Unbondings.Where(u => u.ReleaseHeight <= block.Height).ToArray();
        foreach (var u in matured)
        {
            state.Account(u.Owner).Balance += u.Amount;
        }
        state.Unbondings.RemoveAll(u => u.ReleaseHeight <= block.Height);
    }

    /// <summary>Checks the envelope (chain, signature, nonce) and applies the transaction.</summary>
    /// <param name="state">The state to change.</param>
    /// <param name="signed">The transaction and its signature.</param>
    /// <param name="block">The block it goes into.</param>
    /// <param name="verifySignature">False only when replaying blocks this process already verified.</param>
    /// <param name="digest">The transaction's digest on this chain, if the caller has it already (it is the id, too).</param>
    public static void Apply(LedgerState state, SignedTransaction signed, BlockContext block, bool verifySignature = true, Hash32? digest = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(signed);
        var tx = signed.Tx;
        if (signed.ChainId is { } claimed && claimed != state.ChainId)
        {
            throw new LedgerException(LedgerError.WrongChain, $"chain_id: the transaction is for chain {claimed}, this ledger is chain {state.ChainId}");
        }
        if (verifySignature)
        {
            if (!SignatureVerifier.TryRecover(digest ?? tx.Digest(state.ChainId), signed.Signature, out var signer) || signer != tx.From)
            {
                throw new LedgerException(LedgerError.BadSignature,
                    $"signature: does not prove that {tx.From} signed this {tx.TypeName} for chain {state.ChainId} (forged, altered, or signed for another chain)");
            }
        }
        var expected = state.NonceOf(tx.From);
        if (tx.Nonce != expected)
        {
            throw new LedgerException(LedgerError.BadNonce, tx.Nonce < expected
                ? $"nonce: {tx.Nonce} was already used by {tx.From} (replayed transaction); the next nonce is {expected}"
                : $"nonce: {tx.Nonce} is ahead of {tx.From}'s next nonce {expected}");
        }

        Execute(state, tx, block);
        state.Account(tx.From).Nonce = expected + 1;
    }

    private static void Execute(LedgerState state, Transaction tx, BlockContext block)
    {
        switch (tx)
        {
            case Transfer t:
                Debit(state, t.From, Positive(t.Amount, "amount"), "transfer");
                state.Account(t.To).Balance += t.Amount;
                break;
            case Stake s:
                Debit(state, s.From, Positive(s.Amount, "amount"), "stake");
                StakeEntry(state, s.From, s.Role).Self += s.Amount;
                break;
            case Unstake u:
                {
                    var stake = state.StakeOf(u.From, u.Role);
                    if (Positive(u.Amount, "amount") > stake.Self)
                    {
                        throw new LedgerException(LedgerError.InsufficientStake,
                            $"amount: {Tokens.Format(u.Amount)} exceeds {u.From}'s own {u.Role} stake of {Tokens.Format(stake.Self)}");
                    }
                    var (bonded, bondTask) = LivenessRules.Bonded(state, u.From, u.Role);
                    if (stake.Total - u.Amount < bonded)
                    {
                        throw new LedgerException(LedgerError.StakeBonded,
                            $"amount: {u.From} is bound to task {bondTask}, which requires a {u.Role.ToString().ToLowerInvariant()} stake of {Tokens.Format(bonded)}; unstaking {Tokens.Format(u.Amount)} of {Tokens.Format(stake.Total)} would leave less (leave the task between rounds first, or wait for its round to settle)");
                    }
                    StakeEntry(state, u.From, u.Role).Self -= u.Amount;
                    StartUnbonding(state, u.From, u.Amount, block);
                    break;
                }
            case DelegateStake d:
                if (d.Operator == d.From)
                {
                    throw new LedgerException(LedgerError.InvalidParameter, "operator: delegate to another account; use stake for your own");
                }
                Debit(state, d.From, Positive(d.Amount, "amount"), "delegation");
                StakeEntry(state, d.Operator, d.Role).Delegated += d.Amount;
                state.Delegations[(d.From, d.Operator, d.Role)] = state.Delegations.GetValueOrDefault((d.From, d.Operator, d.Role)) + d.Amount;
                break;
            case UndelegateStake d:
                {
                    var held = state.Delegations.GetValueOrDefault((d.From, d.Operator, d.Role));
                    if (Positive(d.Amount, "amount") > held)
                    {
                        throw new LedgerException(LedgerError.InsufficientStake,
                            $"amount: {Tokens.Format(d.Amount)} exceeds the {Tokens.Format(held)} {d.From} delegated to {d.Operator} as {d.Role}");
                    }
                    SetDelegation(state, (d.From, d.Operator, d.Role), held - d.Amount);
                    StakeEntry(state, d.Operator, d.Role).Delegated -= d.Amount;
                    StartUnbonding(state, d.From, d.Amount, block);
                    break;
                }
            case SetCommission c:
                if (c.CommissionBps > 10_000)
                {
                    throw new LedgerException(LedgerError.InvalidParameter, $"commission_bps: must be <= 10000, got {c.CommissionBps}");
                }
                state.Commissions[c.From] = c.CommissionBps;
                break;
            case CreateTask c:
                CreateTaskRule(state, c);
                break;
            case CreateTournament c:
                CreateTournamentRule(state, c);
                break;
            case JoinTask j:
                {
                    var task = OpenTask(state, j.TaskId);
                    var stake = state.StakeOf(j.From, j.Role).Total;
                    if (stake < task.MinStake)
                    {
                        throw new LedgerException(LedgerError.InsufficientStake,
                            $"stake: task {task.Id} requires a {j.Role} stake of {Tokens.Format(task.MinStake)}; {j.From} has {Tokens.Format(stake)}");
                    }
                    (j.Role == Role.Trainer ? task.Trainers : task.Validators).Add(j.From);
                    break;
                }
            case OpenRound o:
                RoundRules.Open(state, o, block);
                break;
            case SubmitUpdate u:
                RoundRules.Submit(state, u);
                break;
            case CloseTraining c:
                RoundRules.Advance(state, c, RoundPhase.Training, RoundPhase.Committing);
                break;
            case CommitScores c:
                RoundRules.Commit(state, c);
                break;
            case CloseCommits c:
                RoundRules.Advance(state, c, RoundPhase.Committing, RoundPhase.Revealing);
                break;
            case RevealScores r:
                RoundRules.Reveal(state, r);
                break;
            case FinalizeRound f:
                RoundRules.Finalize(state, f);
                break;
            case CancelTask c:
                LivenessRules.Cancel(state, c);
                break;
            case HandoverTask h:
                LivenessRules.Handover(state, h);
                break;
            case LeaveTask l:
                LivenessRules.Leave(state, l);
                break;
            case SubmitProposal p:
                Governance.GovernanceRules.Submit(state, p, block);
                break;
            case VoteProposal v:
                Governance.GovernanceRules.Vote(state, v, block);
                break;
            case RegisterProvider or SignProviderAttributes or CreateDeployment or DepositDeployment or CloseDeployment
                or OrderTransaction:
                MarketRules.Apply(state, tx);
                break;
            default:
                throw new LedgerException(LedgerError.InvalidParameter, $"type: {tx.GetType().Name} is not a ledger transaction");
        }
    }

    private static void CreateTaskRule(LedgerState state, CreateTask c) => AddTask(state, c, "rounds", null);

    private static void CreateTournamentRule(LedgerState state, CreateTournament c)
    {
        if (c.SubmissionsPerTrainer is 0 or > TournamentLimits.MaxSubmissionsPerTrainer)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"submissions_per_trainer: must be in [1, {TournamentLimits.MaxSubmissionsPerTrainer}], got {c.SubmissionsPerTrainer}");
        }
        if (c.DecayBps is 0 or > 10_000)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"decay_bps: must be in [1, 10000], got {c.DecayBps}");
        }
        if (c.SideFloorBps > 5_000)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"side_floor_bps: must be <= 5000 (both sides' floors must fit in the whole), got {c.SideFloorBps}");
        }
        // The rest as for any task; every joined trainer with the minimum stake may submit in every window.
        var terms = new CreateTask
        {
            From = c.From,
            Nonce = c.Nonce,
            SpecHash = c.SpecHash,
            RewardPool = c.RewardPool,
            Rounds = c.Windows,
            MinStake = c.MinStake,
            TrainersPerRound = TournamentLimits.MaxTrainers,
            ValidatorsPerRound = c.ValidatorsPerRound,
            RejectBelow = c.RejectBelow,
        };
        AddTask(state, terms, "windows", new TournamentRules(c.SubmissionsPerTrainer, c.DecayBps, c.SideFloorBps));
    }

    /// <summary>Checks a task's terms, escrows its pool and records it; <paramref name="roundsField"/> names its rounds in errors.</summary>
    private static void AddTask(LedgerState state, CreateTask c, string roundsField, TournamentRules? tournament)
    {
        if (c.Rounds is 0 or > 100_000)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"{roundsField}: must be in [1, 100000], got {c.Rounds}");
        }
        if (c.TrainersPerRound is 0 or > 10_000)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"trainers_per_round: must be in [1, 10000], got {c.TrainersPerRound}");
        }
        if (c.ValidatorsPerRound is 0 or > 1_000)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"validators_per_round: must be in [1, 1000], got {c.ValidatorsPerRound}");
        }
        if (c.RejectBelow > LedgerParams.MaxScore)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"reject_below: must be <= {LedgerParams.MaxScore}, got {c.RejectBelow}");
        }
        if (c.SpecHash == Hash32.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "spec_hash: must be the SHA-256 of the task spec, not zero");
        }
        Debit(state, c.From, Positive(c.RewardPool, "reward_pool"), "the reward pool escrow");
        var id = state.NextTaskId++;
        state.Tasks[id] = new TaskState
        {
            Id = id,
            Creator = c.From,
            Coordinator = c.From,
            LastProgress = state.MarketHeight,
            SpecHash = c.SpecHash,
            RewardPool = c.RewardPool,
            Escrow = c.RewardPool,
            Rounds = c.Rounds,
            MinStake = c.MinStake,
            TrainersPerRound = c.TrainersPerRound,
            ValidatorsPerRound = c.ValidatorsPerRound,
            RejectBelow = c.RejectBelow,
            NeedsApproval = state.Params.GovernanceRules.TaskApproval,
            Tournament = tournament,
        };
    }

    internal static TaskState OpenTask(LedgerState state, ulong taskId)
    {
        if (!state.Tasks.TryGetValue(taskId, out var task))
        {
            throw new LedgerException(LedgerError.UnknownTask, $"task_id: no task {taskId} on this ledger");
        }
        if (task.Completed)
        {
            throw new LedgerException(LedgerError.TaskCompleted, $"task_id: task {taskId} has completed all {task.Rounds} rounds");
        }
        if (task.Cancelled)
        {
            throw new LedgerException(LedgerError.TaskCancelled, $"task_id: task {taskId} was cancelled after {task.SettledRounds} settled round(s); its unpaid pool went back to its creator");
        }
        return task;
    }

    internal static UInt128 Positive(UInt128 amount, string field) =>
        amount > 0 ? amount : throw new LedgerException(LedgerError.InvalidAmount, $"{field}: must be > 0");

    internal static void Debit(LedgerState state, Address from, UInt128 amount, string purpose)
    {
        var balance = state.BalanceOf(from);
        if (balance < amount)
        {
            throw new LedgerException(LedgerError.InsufficientBalance,
                $"balance: {from} has {Tokens.Format(balance)} {Tokens.Symbol}, {purpose} needs {Tokens.Format(amount)}");
        }
        state.Account(from).Balance = balance - amount;
    }

    internal static RoleStake StakeEntry(LedgerState state, Address operatorAddress, Role role)
    {
        if (!state.Stakes.TryGetValue((operatorAddress, role), out var stake))
        {
            stake = new RoleStake();
            state.Stakes[(operatorAddress, role)] = stake;
        }
        return stake;
    }

    internal static void SetDelegation(LedgerState state, (Address, Address, Role) key, UInt128 amount)
    {
        if (amount == 0)
        {
            state.Delegations.Remove(key);
        }
        else
        {
            state.Delegations[key] = amount;
        }
    }

    private static void StartUnbonding(LedgerState state, Address owner, UInt128 amount, BlockContext block) =>
        state.Unbondings.Add(new Unbonding(state.NextUnbondingSequence++, owner, amount, block.Height + state.Params.UnbondingBlocks));

    /// <summary>The round's selection seed: keccak256(taskId, round, previous block hash); anyone can recompute it.</summary>
    public static Hash32 SelectionSeed(ulong taskId, uint round, Hash32 previousBlockHash)
    {
        var w = new Eip712Writer(Eip712.TypeHash("SelectionSeed(uint64 taskId,uint32 round,bytes32 previousBlock)"));
        w.UInt(taskId);
        w.UInt(round);
        w.Bytes32(previousBlockHash);
        return new Hash32(w.HashStruct());
    }

    /// <summary>Up to <paramref name="count"/> of the eligible members (sorted), drawn without replacement from the seed.</summary>
    public static IReadOnlyList<Address> Pick(IReadOnlyList<Address> eligible, uint count, Hash32 seed, string purpose)
    {
        ArgumentNullException.ThrowIfNull(eligible);
        var k = (int)Math.Min(count, (uint)eligible.Count);
        var rng = DeterministicRandom.Derive(BinaryPrimitives.ReadUInt64BigEndian(seed.Bytes), purpose);
        return rng.SampleWithoutReplacement(eligible.Count, k).Select(i => eligible[i]).ToArray();
    }
}
