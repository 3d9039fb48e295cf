using Skein.Ledger.Transactions;

namespace Skein.Ledger.State;

/// <summary>
/// What keeps a task from being held hostage by its coordinator: phase deadlines after which anyone staked may close
/// a phase, cancellation of an abandoned task, handover to another coordinator, and leaving (docs/incentives.md, "Liveness").
/// </summary>
internal static class LivenessRules
{
    /// <summary>Starts the clock of a phase that just opened, and counts the change as the task's progress.</summary>
    public static void PhaseOpened(LedgerState state, TaskState task, RoundState round)
    {
        round.Deadline = round.Phase == RoundPhase.Settled ? 0 : state.MarketHeight + state.Params.LivenessRules.BlocksOf(round.Phase);
        task.LastProgress = state.MarketHeight;
    }

    /// <summary>The market height from which anyone may cancel the task.</summary>
    public static ulong AbandonedFrom(LedgerState state, TaskState task) => task.LastProgress + state.Params.LivenessRules.AbandonBlocks;

    /// <summary>
    /// Refuses <paramref name="from"/> closing the round's current phase unless it is the coordinator, or the deadline
    /// has passed and it is the creator or a member staked at the task's minimum in its role.
    /// </summary>
    public static void MayClose(LedgerState state, TaskState task, RoundState round, Address from, string what)
    {
        if (from == task.Coordinator)
        {
            return;
        }
        if (state.MarketHeight < round.Deadline)
        {
            throw new LedgerException(LedgerError.NotYetDue,
                $"from: before the deadline at market height {round.Deadline} (now {state.MarketHeight}) only task {task.Id}'s coordinator {task.Coordinator} may {what} round {round.Round}; after it, anyone staked in the task may");
        }
        if (from != task.Creator && !IsStakedMember(state, task, from))
        {
            throw new LedgerException(LedgerError.NotMember,
                $"from: {from} is neither task {task.Id}'s creator nor a member staked at its minimum of {Tokens.Format(task.MinStake)} in its role, so it may not {what} round {round.Round}");
        }
    }

    public static void Cancel(LedgerState state, CancelTask c)
    {
        var task = StateMachine.OpenTask(state, c.TaskId);
        var from = AbandonedFrom(state, task);
        if (state.MarketHeight < from)
        {
            throw new LedgerException(LedgerError.NotYetDue,
                $"task_id: task {task.Id} made progress at market height {task.LastProgress}; it may be cancelled from height {from} (now {state.MarketHeight}), after {state.Params.LivenessRules.AbandonBlocks} blocks without progress (liveness.abandon_blocks)");
        }
        // What the settled rounds paid stays paid; the open round, if any, pays nobody and slashes nobody.
        state.Account(task.Creator).Balance += task.Escrow;
        task.Refunded = task.Escrow;
        task.Escrow = 0;
        task.Cancelled = true;
    }

    public static void Handover(LedgerState state, HandoverTask h)
    {
        var task = StateMachine.OpenTask(state, h.TaskId);
        if (h.From != task.Creator)
        {
            throw new LedgerException(LedgerError.NotOwner, $"from: only task {task.Id}'s creator {task.Creator} may hand its coordination over, not {h.From}");
        }
        if (h.Coordinator == Address.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, "coordinator: must be an address, not zero");
        }
        if (h.Coordinator == task.Coordinator)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"coordinator: {h.Coordinator} already coordinates task {task.Id}");
        }
        task.Coordinator = h.Coordinator;
    }

    public static void Leave(LedgerState state, LeaveTask l)
    {
        var task = StateMachine.OpenTask(state, l.TaskId);
        var members = l.Role == Role.Trainer ? task.Trainers : task.Validators;
        if (!members.Remove(l.From))
        {
            throw new LedgerException(LedgerError.NotMember, $"from: {l.From} is not a {l.Role.ToString().ToLowerInvariant()} of task {task.Id}");
        }
    }

    /// <summary>
    /// The least stake <paramref name="operatorAddress"/> must keep in <paramref name="role"/>: the largest minimum of
    /// the live tasks it is a member of in that role or was picked for in a round not yet settled (0 when none).
    /// </summary>
    public static (UInt128 Minimum, ulong TaskId) Bonded(LedgerState state, Address operatorAddress, Role role)
    {
        (UInt128 Minimum, ulong TaskId) most = (0, 0);
        foreach (var task in state.Tasks.Values)
        {
            if (task.Completed || task.Cancelled || task.MinStake <= most.Minimum)
            {
                continue;
            }
            var member = (role == Role.Trainer ? task.Trainers : task.Validators).Contains(operatorAddress);
            if (member || PickedInOpenRound(task, operatorAddress, role))
            {
                most = (task.MinStake, task.Id);
            }
        }
        return most;
    }

    private static bool PickedInOpenRound(TaskState task, Address who, Role role) =>
        task.RoundStates.Count > 0 && task.RoundStates.Values.Last() is { Phase: not RoundPhase.Settled } open
        && (role == Role.Trainer ? open.PickedTrainers : open.PickedValidators).Contains(who);

    private static bool IsStakedMember(LedgerState state, TaskState task, Address who) =>
        (task.Trainers.Contains(who) && state.StakeOf(who, Role.Trainer).Total >= task.MinStake)
        || (task.Validators.Contains(who) && state.StakeOf(who, Role.Validator).Total >= task.MinStake);
}
