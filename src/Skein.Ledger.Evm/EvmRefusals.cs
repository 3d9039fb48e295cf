using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm;

/// <summary>The contract's custom errors, as the embedded ledger words the same refusals (code and message).</summary>
internal static class EvmRefusals
{
    public static LedgerException Decode(SmartContractCustomErrorRevertException revert, Transaction tx, ulong chainId)
    {
        if (revert.IsCustomErrorFor<BadSignatureError>())
        {
            return new LedgerException(LedgerError.BadSignature,
                $"signature: does not prove that {tx.From} signed this {tx.TypeName} for chain {chainId} (forged, altered, or signed for another chain)");
        }
        if (revert.IsCustomErrorFor<BadNonceError>())
        {
            var e = revert.DecodeError<BadNonceError>();
            return new LedgerException(LedgerError.BadNonce, e.Nonce < e.Expected
                ? $"nonce: {e.Nonce} was already used by {tx.From} (replayed transaction); the next nonce is {e.Expected}"
                : $"nonce: {e.Nonce} is ahead of {tx.From}'s next nonce {e.Expected}");
        }
        if (revert.IsCustomErrorFor<InvalidAmountError>())
        {
            return revert.DecodeError<InvalidAmountError>().Field switch
            {
                // The embedded ledger files a zero sample count under parameters, not amounts.
                2 => new LedgerException(LedgerError.InvalidParameter, "samples: must be > 0"),
                1 => new LedgerException(LedgerError.InvalidAmount, "reward_pool: must be > 0"),
                _ => new LedgerException(LedgerError.InvalidAmount, "amount: must be > 0"),
            };
        }
        if (revert.IsCustomErrorFor<InsufficientBalanceError>())
        {
            var e = revert.DecodeError<InsufficientBalanceError>();
            var purpose = tx switch { Stake => "stake", DelegateStake => "delegation", CreateTask => "the reward pool escrow", SubmitProposal => "the proposal's deposit", _ => "transfer" };
            return new LedgerException(LedgerError.InsufficientBalance,
                $"balance: {tx.From} has {Tokens.Format(Units(e.Available))} {Tokens.Symbol}, {purpose} needs {Tokens.Format(Units(e.Needed))}");
        }
        if (revert.IsCustomErrorFor<InsufficientStakeError>())
        {
            var e = revert.DecodeError<InsufficientStakeError>();
            return new LedgerException(LedgerError.InsufficientStake, tx switch
            {
                Unstake u => $"amount: {Tokens.Format(u.Amount)} exceeds {u.From}'s own {u.Role} stake of {Tokens.Format(Units(e.Available))}",
                UndelegateStake d => $"amount: {Tokens.Format(d.Amount)} exceeds the {Tokens.Format(Units(e.Available))} {d.From} delegated to {d.Operator} as {d.Role}",
                JoinTask j => $"stake: task {j.TaskId} requires a {j.Role} stake of {Tokens.Format(Units(e.Needed))}; {j.From} has {Tokens.Format(Units(e.Available))}",
                _ => $"stake: {tx.From} has {Tokens.Format(Units(e.Available))}, needs {Tokens.Format(Units(e.Needed))}",
            });
        }
        if (revert.IsCustomErrorFor<InvalidParameterError>())
        {
            return new LedgerException(LedgerError.InvalidParameter, Parameter(revert.DecodeError<InvalidParameterError>().Field, tx));
        }
        if (revert.IsCustomErrorFor<UnknownTaskError>())
        {
            return new LedgerException(LedgerError.UnknownTask, $"task_id: no task {revert.DecodeError<UnknownTaskError>().TaskId} on this ledger");
        }
        if (revert.IsCustomErrorFor<TaskCancelledError>())
        {
            var e = revert.DecodeError<TaskCancelledError>();
            return new LedgerException(LedgerError.TaskCancelled, $"task_id: task {e.TaskId} was cancelled; its unpaid pool went back to its creator");
        }
        if (revert.IsCustomErrorFor<StakeBondedError>())
        {
            var e = revert.DecodeError<StakeBondedError>();
            var role = tx is Unstake u ? u.Role.ToString().ToLowerInvariant() : "role";
            return new LedgerException(LedgerError.StakeBonded,
                $"amount: {tx.From} is bound to task {e.TaskId}, which requires a {role} stake of {Tokens.Format(Units(e.Minimum))}; unstaking would leave less (leave the task between rounds first, or wait for its round to settle)");
        }
        if (Liveness(revert, tx) is { } liveness)
        {
            return liveness;
        }
        if (revert.IsCustomErrorFor<TaskCompletedError>())
        {
            var e = revert.DecodeError<TaskCompletedError>();
            return new LedgerException(LedgerError.TaskCompleted, $"task_id: task {e.TaskId} has completed all {e.Rounds} rounds");
        }
        if (Rounds(revert, tx) is { } refusal)
        {
            return refusal;
        }
        return new LedgerException(LedgerError.InvalidParameter, $"{tx.TypeName}: the contract refused it ({revert.ExceptionEncodedData})");
    }

    private static LedgerException? Rounds(SmartContractCustomErrorRevertException revert, Transaction tx)
    {
        var (taskId, round) = tx is RoundTransaction rt ? (rt.TaskId, rt.Round) : (0UL, 0u);
        if (revert.IsCustomErrorFor<NotCoordinatorError>())
        {
            var e = revert.DecodeError<NotCoordinatorError>();
            return new LedgerException(LedgerError.NotCoordinator, $"from: only task {e.TaskId}'s coordinator {Address.Parse(e.Coordinator)} may do this, not {tx.From}");
        }
        if (revert.IsCustomErrorFor<RoundNotOpenError>())
        {
            var e = revert.DecodeError<RoundNotOpenError>();
            return new LedgerException(LedgerError.RoundNotOpen, e.Kind switch
            {
                0 => $"round: round {round} of task {taskId} is already open or settled",
                1 => $"round: the next round of task {taskId} is {e.Expected}, not {round}",
                2 => $"round: round {e.Expected} of task {taskId} is already open",
                3 => $"round: round {round} of task {taskId} is not open",
                _ => $"round: round {round} of task {taskId} is in its settled phase and takes no {What(tx)} (late or early)",
            });
        }
        if (revert.IsCustomErrorFor<WrongPhaseError>())
        {
            var phase = ((RoundPhase)revert.DecodeError<WrongPhaseError>().Phase).ToString().ToLowerInvariant();
            return new LedgerException(LedgerError.WrongPhase, $"round: round {round} of task {taskId} is in its {phase} phase and takes no {What(tx)} (late or early)");
        }
        if (revert.IsCustomErrorFor<NotPickedError>())
        {
            return new LedgerException(LedgerError.NotPicked, revert.DecodeError<NotPickedError>().Role == (byte)Role.Trainer
                ? $"from: {tx.From} was not picked to train in round {round} of task {taskId}"
                : $"from: {tx.From} was not picked to validate round {round} of task {taskId}");
        }
        if (revert.IsCustomErrorFor<AlreadySubmittedError>())
        {
            return new LedgerException(LedgerError.AlreadySubmitted, tx switch
            {
                CommitScores => $"from: {tx.From} already committed scores for round {round} of task {taskId}",
                RevealScores => $"from: {tx.From} already revealed for round {round} of task {taskId}",
                _ => $"from: {tx.From} already submitted an update in round {round} of task {taskId}",
            });
        }
        if (revert.IsCustomErrorFor<NotCommittedError>())
        {
            return new LedgerException(LedgerError.NotCommitted, $"from: {tx.From} has no commitment in round {round} of task {taskId} to reveal");
        }
        if (revert.IsCustomErrorFor<ScoreForUnknownUpdateError>())
        {
            var e = revert.DecodeError<ScoreForUnknownUpdateError>();
            return new LedgerException(LedgerError.ScoreForUnknownUpdate,
                $"scores: {e.Scores} scores, but round {round} of task {taskId} has {e.Updates} updates (a score for an update not in the round)");
        }
        if (revert.IsCustomErrorFor<BadScoreError>())
        {
            var e = revert.DecodeError<BadScoreError>();
            return new LedgerException(LedgerError.InvalidParameter, $"scores[{e.Index}]: must be <= {LedgerParams.MaxScore}, got {e.Score}");
        }
        if (revert.IsCustomErrorFor<RevealMismatchError>())
        {
            var e = revert.DecodeError<RevealMismatchError>();
            return new LedgerException(LedgerError.RevealMismatch,
                $"scores: the revealed scores and salt hash to {new Hash32(e.Recomputed)}, not to the commitment {new Hash32(e.Commitment)}");
        }
        if (revert.IsCustomErrorFor<WrongModelError>())
        {
            var e = revert.DecodeError<WrongModelError>();
            return new LedgerException(LedgerError.InvalidParameter,
                $"model_hash: round {round} must start from the model settled in round {e.SettledRounds} ({new Hash32(e.ModelHash)})");
        }
        return null;
    }

    private static LedgerException? Liveness(SmartContractCustomErrorRevertException revert, Transaction tx)
    {
        if (revert.IsCustomErrorFor<NotYetDueError>())
        {
            var e = revert.DecodeError<NotYetDueError>();
            return new LedgerException(LedgerError.NotYetDue, tx is CancelTask
                ? $"task_id: task {e.TaskId} may be cancelled from market height {e.Due} (now {e.Height}), after the abandonment period without progress (liveness.abandon_blocks)"
                : $"from: before the deadline at market height {e.Due} (now {e.Height}) only task {e.TaskId}'s coordinator may close this phase; after it, anyone staked in the task may");
        }
        if (revert.IsCustomErrorFor<NotMemberError>())
        {
            var e = revert.DecodeError<NotMemberError>();
            return new LedgerException(LedgerError.NotMember, tx is LeaveTask l
                ? $"from: {l.From} is not a {l.Role.ToString().ToLowerInvariant()} of task {e.TaskId}"
                : $"from: {tx.From} is neither task {e.TaskId}'s creator nor a member staked at its minimum in its role, so it may not close this phase");
        }
        if (revert.IsCustomErrorFor<NotCreatorError>())
        {
            var e = revert.DecodeError<NotCreatorError>();
            return new LedgerException(LedgerError.NotOwner, $"from: only task {e.TaskId}'s creator {Address.Parse(e.Creator)} may hand its coordination over, not {tx.From}");
        }
        return null;
    }

    /// <summary>The contract's field codes (the order of its InvalidParameter reverts), worded as the embedded ledger words them.</summary>
    private static string Parameter(byte field, Transaction tx) => (field, tx) switch
    {
        (0, _) => "params.trainer_share_bps: must be <= 10000",
        (1, _) => "params.supermajority_bps: must be in 5001..10000",
        (2, _) => "params.agreement_tolerance: must be >= 1",
        (3, _) => "params.trainer_slash_bps: must be <= 10000",
        (4, _) => "params.validator_no_reveal_slash_bps: must be <= 10000",
        (5, _) => "params.halving_rounds: must be >= 1",
        (6, _) => "genesis: one amount per account",
        (7, _) => "params.unbonding_blocks: must be in [1, 10000000]",
        (8, _) => "operator: delegate to another account; use stake for your own",
        (9, SetCommission c) => $"commission_bps: must be <= 10000, got {c.CommissionBps}",
        (10, CreateTask c) => $"rounds: must be in [1, 100000], got {c.Rounds}",
        (11, CreateTask c) => $"trainers_per_round: must be in [1, 10000], got {c.TrainersPerRound}",
        (12, CreateTask c) => $"validators_per_round: must be in [1, 1000], got {c.ValidatorsPerRound}",
        (13, CreateTask c) => $"reject_below: must be <= {LedgerParams.MaxScore}, got {c.RejectBelow}",
        (14, _) => "spec_hash: must be the SHA-256 of the task spec, not zero",
        (15, _) => "update_hash: must be the SHA-256 of the update, not zero",
        (16, _) => "new_model_hash: must be the SHA-256 of the aggregated model, not zero",
        (17, _) => "role: must be trainer or validator",
        (18, _) => "coordinator: must be an address, not zero",
        (19, HandoverTask h) => $"coordinator: {h.Coordinator} already coordinates task {h.TaskId}",
        _ => $"{tx.TypeName}: parameter {field} refused by the contract",
    };

    private static string What(Transaction tx) => tx switch
    {
        SubmitUpdate => "updates",
        CloseTraining => "closing training",
        CommitScores => "score commitments",
        CloseCommits => "closing commits",
        RevealScores => "reveals",
        FinalizeRound => "finalizing",
        _ => "transactions",
    };

    private static UInt128 Units(BigInteger value) => (UInt128)value;
}
