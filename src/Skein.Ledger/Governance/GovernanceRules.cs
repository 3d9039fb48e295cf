using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Governance;

/// <summary>
/// Proposals on the ledger: every check runs when a proposal is made or a vote cast, so that the tally at the end
/// of the voting period (the first step of the block at its end height) only counts and executes.
/// </summary>
internal static class GovernanceRules
{
    private const int MaxText = 100;

    public static void Submit(LedgerState state, SubmitProposal p, BlockContext block)
    {
        var rules = state.Params.GovernanceRules;
        if (p.Deposit < rules.MinDeposit)
        {
            throw new LedgerException(LedgerError.DepositTooSmall,
                $"deposit: {Tokens.Format(p.Deposit)} is below governance.min_deposit {Tokens.Format(rules.MinDeposit)}");
        }
        switch (p.Kind)
        {
            case ProposalKind.ParameterChange:
                Unused(p, task: true, model: true, names: true, payment: true);
                if (GovernedParameters.CheckChange(state.Params, Supply(state), p.Parameter, p.Value) is { } refusal)
                {
                    throw new LedgerException(LedgerError.InvalidParameter, refusal);
                }
                break;
            case ProposalKind.TaskApproval:
                {
                    Unused(p, parameter: true, model: true, names: true, payment: true);
                    var task = StateMachine.OpenTask(state, p.TaskId);
                    if (!task.NeedsApproval || task.Approved)
                    {
                        throw new LedgerException(LedgerError.InvalidParameter, task.Approved
                            ? $"task_id: task {task.Id} is already approved"
                            : $"task_id: task {task.Id} was created while governance.task_approval was off; it needs no approval");
                    }
                    if (state.Proposals.Values.Any(o => o.Status == ProposalStatus.Voting && o.Kind == ProposalKind.TaskApproval && o.TaskId == task.Id))
                    {
                        throw new LedgerException(LedgerError.InvalidParameter, $"task_id: task {task.Id} already has an approval proposal in its voting period");
                    }
                    break;
                }
            case ProposalKind.ModelRelease:
                {
                    Unused(p, parameter: true, payment: true);
                    if (!state.Tasks.TryGetValue(p.TaskId, out var task))
                    {
                        throw new LedgerException(LedgerError.UnknownTask, $"task_id: no task {p.TaskId} on this ledger");
                    }
                    if (p.ModelHash == Hash32.Zero || !task.RoundStates.Values.Any(r => r.Phase == RoundPhase.Settled && r.NewModelHash == p.ModelHash))
                    {
                        throw new LedgerException(LedgerError.InvalidParameter, $"model_hash: {p.ModelHash} is not a model any settled round of task {task.Id} produced");
                    }
                    Text(p.Name, "name");
                    Text(p.License, "license");
                    break;
                }
            case ProposalKind.TreasurySpend:
                Unused(p, parameter: true, model: true, names: true);
                StateMachine.Positive(p.Amount, "amount");
                if ((p.TaskId == 0) == (p.Recipient == Address.Zero))
                {
                    throw new LedgerException(LedgerError.InvalidParameter, "recipient, task_id: name exactly one: an account to pay, or a task whose reward pool to fund");
                }
                if (p.TaskId != 0)
                {
                    Fundable(StateMachine.OpenTask(state, p.TaskId));
                }
                if (p.Amount > state.Treasury)
                {
                    throw new LedgerException(LedgerError.InsufficientBalance,
                        $"amount: {Tokens.Format(p.Amount)} is more than the treasury's {Tokens.Format(state.Treasury)}");
                }
                break;
            default:
                throw new LedgerException(LedgerError.InvalidParameter, $"kind: must be parameter_change, task_approval, model_release or treasury_spend; got {(byte)p.Kind}");
        }
        var snapshot = VotingSnapshot.Take(state);
        if (snapshot.TotalPower == 0)
        {
            throw new LedgerException(LedgerError.NoVotingPower, "stake: nothing is staked on this chain, so nobody could vote");
        }
        StateMachine.Debit(state, p.From, p.Deposit, "the proposal's deposit");
        var id = state.NextProposalId++;
        state.Proposals[id] = new ProposalState
        {
            Id = id,
            Kind = p.Kind,
            Proposer = p.From,
            Deposit = p.Deposit,
            StartHeight = block.Height,
            EndHeight = block.Height + rules.VotingPeriodBlocks,
            Parameter = p.Parameter,
            Value = p.Value,
            TaskId = p.TaskId,
            ModelHash = p.ModelHash,
            Name = p.Name,
            License = p.License,
            Recipient = p.Recipient,
            Amount = p.Amount,
            Snapshot = snapshot,
        };
    }

    public static void Vote(LedgerState state, VoteProposal v, BlockContext block)
    {
        if (!state.Proposals.TryGetValue(v.ProposalId, out var proposal))
        {
            throw new LedgerException(LedgerError.UnknownProposal, $"proposal_id: no proposal {v.ProposalId} on this ledger");
        }
        if (proposal.Status != ProposalStatus.Voting || block.Height >= proposal.EndHeight)
        {
            throw new LedgerException(LedgerError.VotingClosed,
                $"proposal_id: the voting period of proposal {proposal.Id} ended at height {proposal.EndHeight}");
        }
        if (v.Option is < VoteOption.Yes or > VoteOption.NoWithVeto)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"option: must be yes (1), abstain (2), no (3) or no_with_veto (4); got {(byte)v.Option}");
        }
        if (proposal.Snapshot.PowerOf(v.From) == 0)
        {
            throw new LedgerException(LedgerError.NoVotingPower,
                $"voter: {v.From} had no stake and no delegation at height {proposal.StartHeight}, when proposal {proposal.Id} started");
        }
        proposal.Votes[v.From] = v.Option;
    }

    /// <summary>Tallies and executes every proposal whose voting period ends at or before <paramref name="block"/>.</summary>
    public static void EndVoting(LedgerState state, BlockContext block)
    {
        foreach (var proposal in state.Proposals.Values.Where(p => p.Status == ProposalStatus.Voting && p.EndHeight <= block.Height).ToArray())
        {
            var tally = GovernanceTally.Count(proposal.Snapshot, proposal.Votes, state.Params.GovernanceRules);
            proposal.Tally = tally;
            proposal.DecidedHeight = block.Height;
            if (tally.Vetoed)
            {
                proposal.Status = ProposalStatus.Vetoed;
                state.Burned += proposal.Deposit;
                proposal.Outcome = "vetoed: the deposit is burned";
            }
            else
            {
                state.Account(proposal.Proposer).Balance += proposal.Deposit;
                if (tally.Passed)
                {
                    var failure = Execute(state, proposal, block);
                    proposal.Status = failure is null ? ProposalStatus.Passed : ProposalStatus.Failed;
                    proposal.Outcome = failure ?? Describe(proposal);
                }
                else
                {
                    proposal.Status = ProposalStatus.Rejected;
                    proposal.Outcome = tally.QuorumReached ? "rejected: yes did not reach the threshold" : "rejected: the quorum was not reached";
                }
            }
            if (proposal.Status != ProposalStatus.Passed && proposal.Kind == ProposalKind.TaskApproval
                && state.Tasks.TryGetValue(proposal.TaskId, out var task) && !task.Approved && !task.Completed)
            {
                // The task never opened a round: its pool goes back whole.
                state.Account(task.Creator).Balance += task.Escrow;
                task.Escrow = 0;
                task.Refused = true;
                task.Completed = true;
                proposal.Outcome += $"; task {task.Id} is closed and its pool returned to {task.Creator}";
            }
        }
    }

    /// <summary>Applies a passed proposal; returns why it could not be applied (changing nothing), or null.</summary>
    private static string? Execute(LedgerState state, ProposalState proposal, BlockContext block)
    {
        switch (proposal.Kind)
        {
            case ProposalKind.ParameterChange:
                // Checked again against today's state: another change may have passed since this one was made.
                if (GovernedParameters.CheckChange(state.Params, Supply(state), proposal.Parameter, proposal.Value) is { } refusal)
                {
                    return "failed: " + refusal;
                }
                state.Params = GovernedParameters.Find(proposal.Parameter)!.Write(state.Params, proposal.Value);
                return null;
            case ProposalKind.TaskApproval:
                if (!state.Tasks.TryGetValue(proposal.TaskId, out var toApprove) || toApprove.Completed)
                {
                    return $"failed: task {proposal.TaskId} is closed";
                }
                toApprove.Approved = true;
                return null;
            case ProposalKind.ModelRelease:
                state.Tasks[proposal.TaskId].Releases.Add(new ModelReleaseInfo(proposal.ModelHash, proposal.Name, proposal.License, proposal.Id, block.Height));
                return null;
            case ProposalKind.TreasurySpend:
                if (proposal.Amount > state.Treasury)
                {
                    return $"failed: the treasury holds {Tokens.Format(state.Treasury)}, less than the {Tokens.Format(proposal.Amount)} asked";
                }
                if (proposal.TaskId != 0)
                {
                    if (!state.Tasks.TryGetValue(proposal.TaskId, out var funded) || funded.Completed || funded.SettledRounds > 0)
                    {
                        return $"failed: task {proposal.TaskId} can no longer be funded (closed, or a round has settled)";
                    }
                    funded.RewardPool += proposal.Amount;
                    funded.Escrow += proposal.Amount;
                }
                else
                {
                    state.Account(proposal.Recipient).Balance += proposal.Amount;
                }
                state.Treasury -= proposal.Amount;
                return null;
            default:
                return $"failed: unknown kind {(byte)proposal.Kind}";
        }
    }

    private static string Describe(ProposalState p) => p.Kind switch
    {
        ProposalKind.ParameterChange => $"passed: {p.Parameter} = {p.Value} from height {p.DecidedHeight}",
        ProposalKind.TaskApproval => $"passed: task {p.TaskId} may open rounds",
        ProposalKind.ModelRelease => $"passed: {p.ModelHash} released as '{p.Name}' ({p.License}) for task {p.TaskId}",
        ProposalKind.TreasurySpend => p.TaskId != 0 ? $"passed: {Tokens.Format(p.Amount)} from the treasury into task {p.TaskId}'s pool" : $"passed: {Tokens.Format(p.Amount)} from the treasury to {p.Recipient}",
        _ => "passed",
    };

    private static UInt128 Supply(LedgerState state) => state.GenesisSupply + state.Emitted - state.Burned;

    private static void Fundable(TaskState task)
    {
        if (task.SettledRounds > 0)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"task_id: task {task.Id} has settled rounds; its pool is funded only before its first round settles");
        }
    }

    private static void Text(string value, string field)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxText)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"{field}: must be 1 to {MaxText} characters");
        }
    }

    /// <summary>Refuses fields the proposal's kind does not use, so that a signature never covers a field nobody reads.</summary>
    private static void Unused(SubmitProposal p, bool parameter = false, bool task = false, bool model = false, bool names = false, bool payment = false)
    {
        var kind = Name(p.Kind);
        if (parameter && (p.Parameter.Length > 0 || p.Value != 0))
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"parameter, value: a {kind} proposal leaves them empty");
        }
        if (task && p.TaskId != 0)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"task_id: a {kind} proposal leaves it empty");
        }
        if (model && p.ModelHash != Hash32.Zero)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"model_hash: a {kind} proposal leaves it empty");
        }
        if (names && (p.Name.Length > 0 || p.License.Length > 0))
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"name, license: a {kind} proposal leaves them empty");
        }
        if (payment && (p.Recipient != Address.Zero || p.Amount != 0))
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"recipient, amount: a {kind} proposal leaves them empty");
        }
    }

    public static string Name(ProposalKind kind) => kind switch
    {
        ProposalKind.ParameterChange => "parameter_change",
        ProposalKind.TaskApproval => "task_approval",
        ProposalKind.ModelRelease => "model_release",
        ProposalKind.TreasurySpend => "treasury_spend",
        _ => $"kind {(byte)kind}",
    };
}
