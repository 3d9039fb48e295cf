using Skein.Ledger.Incentives;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.State;

/// <summary>The round protocol on the ledger: open, submit, commit, reveal, and settle with consensus, rewards and slashes.</summary>
internal static class RoundRules
{
    public static void Open(LedgerState state, OpenRound o, BlockContext block)
    {
        var task = StateMachine.OpenTask(state, o.TaskId);
        Coordinator(task, o.From);
        if (task.NeedsApproval && !task.Approved)
        {
            throw new LedgerException(LedgerError.AwaitingApproval, $"task_id: task {task.Id} opens no round until a task_approval proposal for it passes");
        }
        var expected = task.SettledRounds + 1;
        if (o.Round != expected)
        {
            throw new LedgerException(LedgerError.RoundNotOpen, task.RoundStates.ContainsKey(o.Round)
                ? $"round: round {o.Round} of task {task.Id} is already open or settled"
                : $"round: the next round of task {task.Id} is {expected}, not {o.Round}");
        }
        if (task.RoundStates.TryGetValue(expected, out var existing) && existing.Phase != RoundPhase.Settled)
        {
            throw new LedgerException(LedgerError.RoundNotOpen, $"round: round {expected} of task {task.Id} is already open");
        }
        if (task.Tournament is not null && task.SettledRounds > 0 && o.ModelHash != task.RoundStates[1].ModelHash)
        {
            // Every window's entrants fine-tune the same starting point, so that their submissions compare.
            throw new LedgerException(LedgerError.InvalidParameter,
                $"model_hash: every window of tournament {task.Id} starts from the model its first window started from ({task.RoundStates[1].ModelHash})");
        }
        if (task.Tournament is null && task.SettledRounds > 0 && o.ModelHash != task.ModelHash)
        {
            throw new LedgerException(LedgerError.InvalidParameter,
                $"model_hash: round {o.Round} must start from the model settled in round {task.SettledRounds} ({task.ModelHash})");
        }
        var seed = StateMachine.SelectionSeed(task.Id, o.Round, block.PreviousBlockHash);
        var trainers = task.Trainers.Where(a => state.StakeOf(a, Role.Trainer).Total >= task.MinStake).ToArray();
        var validators = task.Validators.Where(a => state.StakeOf(a, Role.Validator).Total >= task.MinStake).ToArray();
        task.RoundStates[o.Round] = new RoundState
        {
            Round = o.Round,
            Seed = seed,
            ModelHash = o.ModelHash,
            PickedTrainers = [.. StateMachine.Pick(trainers, task.TrainersPerRound, seed, "pick/trainers").Order()],
            PickedValidators = [.. StateMachine.Pick(validators, task.ValidatorsPerRound, seed, "pick/validators").Order()],
        };
        task.RoundStates[o.Round].PhaseTimes[0] = state.BlockTimestamp;
        LivenessRules.PhaseOpened(state, task, task.RoundStates[o.Round]);
        task.ModelHash = o.ModelHash;
    }

    public static void Submit(LedgerState state, SubmitUpdate u)
    {
        var (task, round) = Round(state, u, RoundPhase.Training, "updates");
        if (!round.PickedTrainers.Contains(u.From))
        {
            throw new LedgerException(LedgerError.NotPicked, $"from: {u.From} was not picked to train in round {u.Round} of task {u.TaskId}");
        }
        if (task.Tournament is { } tournament)
        {
            var mine = round.Updates.Where(e => e.Trainer == u.From).ToArray();
            if (mine.Any(e => e.UpdateHash == u.UpdateHash))
            {
                throw new LedgerException(LedgerError.AlreadySubmitted, $"update_hash: {u.From} already submitted {u.UpdateHash} in window {u.Round} of tournament {u.TaskId}");
            }
            if (mine.Length >= tournament.SubmissionsPerTrainer)
            {
                throw new LedgerException(LedgerError.AlreadySubmitted,
                    $"from: {u.From} already made {mine.Length} submission(s) in window {u.Round} of tournament {u.TaskId}, the limit (submissions_per_trainer) is {tournament.SubmissionsPerTrainer}");
            }
        }
        else if (round.Updates.Any(e => e.Trainer == u.From))
        {
            throw new LedgerException(LedgerError.AlreadySubmitted, $"from: {u.From} already submitted an update in round {u.Round} of task {u.TaskId}");
        }
        if (u.Samples == 0)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "samples: must be > 0");
        }
        if (u.UpdateHash == Hash32.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "update_hash: must be the SHA-256 of the update, not zero");
        }
        round.Updates.Add(new UpdateEntry(u.From, u.UpdateHash, u.Samples));
    }

    public static void Advance(LedgerState state, RoundTransaction t, RoundPhase from, RoundPhase to)
    {
        var what = to == RoundPhase.Committing ? "closing training" : "closing commits";
        var (task, round) = Round(state, t, from, what);
        LivenessRules.MayClose(state, task, round, t.From, to == RoundPhase.Committing ? "close training of" : "close commits of");
        round.Phase = to;
        round.PhaseTimes[to == RoundPhase.Committing ? 1 : 2] = state.BlockTimestamp;
        LivenessRules.PhaseOpened(state, task, round);
    }

    public static void Commit(LedgerState state, CommitScores c)
    {
        var (_, round) = Round(state, c, RoundPhase.Committing, "score commitments");
        if (!round.PickedValidators.Contains(c.From))
        {
            throw new LedgerException(LedgerError.NotPicked, $"from: {c.From} was not picked to validate round {c.Round} of task {c.TaskId}");
        }
        if (round.Commitments.ContainsKey(c.From))
        {
            throw new LedgerException(LedgerError.AlreadySubmitted, $"from: {c.From} already committed scores for round {c.Round} of task {c.TaskId}");
        }
        round.Commitments[c.From] = c.Commitment;
    }

    public static void Reveal(LedgerState state, RevealScores r)
    {
        var (_, round) = Round(state, r, RoundPhase.Revealing, "reveals");
        if (!round.Commitments.TryGetValue(r.From, out var commitment))
        {
            throw new LedgerException(LedgerError.NotCommitted, $"from: {r.From} has no commitment in round {r.Round} of task {r.TaskId} to reveal");
        }
        if (round.Reveals.ContainsKey(r.From))
        {
            throw new LedgerException(LedgerError.AlreadySubmitted, $"from: {r.From} already revealed for round {r.Round} of task {r.TaskId}");
        }
        if (r.Scores.Count != round.Updates.Count)
        {
            throw new LedgerException(LedgerError.ScoreForUnknownUpdate,
                $"scores: {r.Scores.Count} scores, but round {r.Round} of task {r.TaskId} has {round.Updates.Count} updates (a score for an update not in the round)");
        }
        for (var i = 0; i < r.Scores.Count; i++)
        {
            if (r.Scores[i] > LedgerParams.MaxScore)
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"scores[{i}]: must be <= {LedgerParams.MaxScore}, got {r.Scores[i]}");
            }
        }
        var recomputed = SignedTransaction.ScoreCommitment(r.TaskId, r.Round, r.From, r.Scores, r.Salt);
        if (recomputed != commitment)
        {
            throw new LedgerException(LedgerError.RevealMismatch,
                $"scores: the revealed scores and salt hash to {recomputed}, not to the commitment {commitment}");
        }
        round.Reveals[r.From] = [.. r.Scores];
    }

    /// <summary>Consensus, verdicts, rewards to trainers, validators and their delegators, slashes, and the escrow's change.</summary>
    public static void Finalize(LedgerState state, FinalizeRound f)
    {
        var (task, round) = Round(state, f, RoundPhase.Revealing, "finalizing");
        LivenessRules.MayClose(state, task, round, f.From, "settle");
        if (f.NewModelHash == Hash32.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "new_model_hash: must be the SHA-256 of the aggregated model, not zero");
        }
        var p = state.Params.Incentives;
        var poolShare = task.PoolShare(f.Round);
        var emission = Emission.ForRound(state.SettledRounds, p);
        // The treasury's governed share of the round's emission is minted to it, not into the round's reward.
        var toTreasury = Tokens.MulDiv(emission, state.Params.GovernanceRules.TreasuryEmissionBps, 10_000);
        if (toTreasury > 0)
        {
            emission -= toTreasury;
            state.Emitted += toTreasury;
            state.Treasury += toTreasury;
        }
        var reward = poolShare + emission;
        var input = new SettlementInput(
            round.Updates.Select(u => new UpdateInfo(u.Trainer, u.Samples)).ToArray(),
            round.Reveals.Select(r => new ValidatorReveal(r.Key, state.StakeOf(r.Key, Role.Validator).Total, r.Value)).ToArray(),
            round.Commitments.Keys.Where(v => !round.Reveals.ContainsKey(v)).ToArray(),
            reward,
            task.RejectBelow,
            p)
        {
            // Emission is minted only as far as it is paid out, so unpaid rounds never enrich anyone.
            EmissionPart = emission,
        };
        SettlementResult result;
        if (task.Tournament is { } tournament)
        {
            var earlier = task.RoundStates.Values.Where(r => r.Round < f.Round).SelectMany(r => r.Updates).Select(u => (u.Trainer, u.UpdateHash)).ToArray();
            var copies = TournamentSettlement.ExactCopies(earlier, round.Updates.Select(u => (u.Trainer, u.UpdateHash)).ToArray());
            result = TournamentSettlement.Compute(input, tournament, round.Updates.Select(u => state.StakeOf(u.Trainer, Role.Trainer).Total).ToArray(), copies);
            foreach (var u in round.Updates)
            {
                round.SettledTrainerStakes[u.Trainer] = state.StakeOf(u.Trainer, Role.Trainer).Total;
            }
            foreach (var r in input.Revealed)
            {
                round.SettledValidatorStakes[r.Validator] = r.Weight;
            }
        }
        else
        {
            result = RoundSettlement.Compute(input);
        }

        // Everything below only adds and moves tokens that the settlement accounted for; checks are done.
        task.Escrow = task.Escrow - poolShare + result.ReturnedToEscrow;
        state.Emitted += result.Minted;
        foreach (var (trainer, amount) in result.TrainerRewards)
        {
            Pay(state, trainer, Role.Trainer, amount, task.Tournament is null ? $"task {task.Id} round {f.Round}: accepted update" : $"task {task.Id} window {f.Round}: ranked submission", round);
        }
        foreach (var (validator, amount) in result.ValidatorRewards)
        {
            Pay(state, validator, Role.Validator, amount, $"task {task.Id} round {f.Round}: scores agreeing with consensus", round);
        }
        foreach (var trainer in result.SlashedTrainers)
        {
            Slash(state, trainer, Role.Trainer, p.TrainerSlashBps, $"task {task.Id} round {f.Round}: update rejected by a supermajority", round);
        }
        foreach (var trainer in result.Copiers)
        {
            Slash(state, trainer, Role.Trainer, p.TrainerSlashBps, $"task {task.Id} window {f.Round}: submitted a copy of an earlier submission of another trainer (the same update hash)", round);
        }
        foreach (var validator in result.SlashedValidators)
        {
            Slash(state, validator, Role.Validator, p.ValidatorNoRevealSlashBps, $"task {task.Id} round {f.Round}: committed scores but did not reveal", round);
        }
        foreach (var v in result.Verdicts)
        {
            var u = round.Updates[v.Index];
            // A tournament traces each payout to its submission (a trainer may have several); a federated round to its trainer's one update.
            var earned = task.Tournament is null ? (v.Accepted ? result.TrainerRewards.GetValueOrDefault(u.Trainer) : UInt128.Zero) : v.Reward;
            round.Outcomes.Add(new UpdateOutcome(u.Trainer, u.UpdateHash, v.ConsensusScore, v.Accepted, earned));
        }
        round.Reward = reward;
        round.NewModelHash = f.NewModelHash;
        round.Phase = RoundPhase.Settled;
        round.PhaseTimes[3] = state.BlockTimestamp;
        LivenessRules.PhaseOpened(state, task, round);
        task.ModelHash = f.NewModelHash;
        task.SettledRounds++;
        state.SettledRounds++;
        if (task.SettledRounds == task.Rounds)
        {
            // The task is over: what the rounds did not pay out goes back to its creator.
            state.Account(task.Creator).Balance += task.Escrow;
            round.Movements.Add(new LedgerMovement(task.Creator, "refund", task.Escrow, $"task {task.Id}: unpaid escrow returned"));
            task.Escrow = 0;
            task.Completed = true;
        }
    }

    private static void Pay(LedgerState state, Address operatorAddress, Role role, UInt128 amount, string reason, RoundState round)
    {
        if (amount == 0)
        {
            return;
        }
        var stake = state.StakeOf(operatorAddress, role);
        var parts = StakeSplit.Reward(amount, operatorAddress, stake.Self, state.CommissionOf(operatorAddress), state.DelegationsTo(operatorAddress, role));
        foreach (var (account, part) in parts)
        {
            if (part == 0)
            {
                continue;
            }
            state.Account(account).Balance += part;
            round.Movements.Add(new LedgerMovement(account, account == operatorAddress ? $"{role} reward".ToLowerInvariant() : "delegator reward", part,
                account == operatorAddress ? reason : $"{reason} (delegated to {operatorAddress})"));
        }
    }

    private static void Slash(LedgerState state, Address operatorAddress, Role role, uint bps, string reason, RoundState round)
    {
        var stake = StateMachine.StakeEntry(state, operatorAddress, role);
        var amount = Tokens.MulDiv(stake.Total, bps, 10_000);
        if (amount == 0)
        {
            return;
        }
        var delegations = state.DelegationsTo(operatorAddress, role);
        var (fromSelf, fromDelegations) = StakeSplit.Slash(amount, stake.Self, delegations);
        stake.Self -= fromSelf;
        UInt128 burned = fromSelf;
        foreach (var (delegator, part) in fromDelegations)
        {
            var key = (delegator, operatorAddress, role);
            StateMachine.SetDelegation(state, key, state.Delegations.GetValueOrDefault(key) - part);
            stake.Delegated -= part;
            burned += part;
            round.Movements.Add(new LedgerMovement(delegator, "delegator slash", part, $"{reason} (delegated to {operatorAddress})"));
        }
        // The treasury's governed share of a slash is kept for the community; the rest is burned.
        var kept = Tokens.MulDiv(burned, state.Params.GovernanceRules.TreasurySlashBps, 10_000);
        state.Treasury += kept;
        state.Burned += burned - kept;
        round.Movements.Add(new LedgerMovement(operatorAddress, $"{role} slash".ToLowerInvariant(), fromSelf, reason));
    }

    private static void Coordinator(TaskState task, Address from)
    {
        if (from != task.Coordinator)
        {
            throw new LedgerException(LedgerError.NotCoordinator, $"from: only task {task.Id}'s coordinator {task.Coordinator} may do this, not {from}");
        }
    }

    private static (TaskState Task, RoundState Round) Round(LedgerState state, RoundTransaction t, RoundPhase phase, string what)
    {
        var task = StateMachine.OpenTask(state, t.TaskId);
        if (!task.RoundStates.TryGetValue(t.Round, out var round))
        {
            throw new LedgerException(LedgerError.RoundNotOpen, $"round: round {t.Round} of task {t.TaskId} is not open");
        }
        if (round.Phase != phase)
        {
            throw new LedgerException(round.Phase == RoundPhase.Settled ? LedgerError.RoundNotOpen : LedgerError.WrongPhase,
                $"round: round {t.Round} of task {t.TaskId} is in its {round.Phase.ToString().ToLowerInvariant()} phase and takes no {what} (late or early)");
        }
        return (task, round);
    }
}
