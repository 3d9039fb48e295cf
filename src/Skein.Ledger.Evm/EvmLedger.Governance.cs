using System.Numerics;
using Nethereum.Contracts;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Transaction = Skein.Ledger.Transactions.Transaction;

namespace Skein.Ledger.Evm;

/// <summary>Governance on the chain: SkeinGovernance.sol holds proposals, votes, deposits and the treasury.</summary>
public sealed partial class EvmLedger
{
    /// <summary>Where SkeinGovernance.sol (proposals, votes, deposits, treasury) lives on the chain.</summary>
    public string GovernanceAddress { get; private init; } = "";

    private static ChainParamsTuple ChainParams(LedgerParams p) => new()
    {
        UnbondingBlocks = p.UnbondingBlocks,
        TreasurySlashBps = checked((ushort)p.GovernanceRules.TreasurySlashBps),
        TreasuryEmissionBps = checked((ushort)p.GovernanceRules.TreasuryEmissionBps),
        TaskApproval = p.GovernanceRules.TaskApproval,
    };

    private static GovernanceRulesTuple Rules(GovernanceParams g) => new()
    {
        MinDeposit = g.MinDeposit,
        VotingPeriodBlocks = g.VotingPeriodBlocks,
        QuorumBps = checked((ushort)g.QuorumBps),
        ThresholdBps = checked((ushort)g.ThresholdBps),
        VetoBps = checked((ushort)g.VetoBps),
        MaxSupply = g.MaxSupply,
    };

    private Task<Nethereum.RPC.Eth.DTOs.TransactionReceipt> RelayGovernanceAsync(Transaction tx, byte[] signature, CancellationToken cancellationToken) => tx switch
    {
        SubmitProposal p => SendAsync(GovernanceAddress, new RelaySubmitProposal
        {
            From = p.From.ToString(), TxNonce = p.Nonce, Signature = signature,
            Proposal = new ProposalInputTuple
            {
                Kind = (byte)p.Kind, Parameter = p.Parameter, Value = p.Value, TaskId = p.TaskId, ModelHash = p.ModelHash.Bytes.ToArray(), Name = p.Name,
                License = p.License, Recipient = p.Recipient.ToString(), Amount = p.Amount, Deposit = p.Deposit,
            },
        }, tx, cancellationToken),
        VoteProposal v => SendAsync(GovernanceAddress, new RelayVoteProposal { From = v.From.ToString(), TxNonce = v.Nonce, ProposalId = v.ProposalId, Option = (byte)v.Option, Signature = signature },
            tx, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(tx)),
    };

    /// <summary>The governed parameters in force, as <see cref="LedgerParams"/> (the market's are the defaults: they are not governed).</summary>
    public async Task<LedgerParams> GetGovernedParamsAsync(CancellationToken cancellationToken = default)
    {
        var values = await QueryAsync<ParametersQuery, List<BigInteger>>(new ParametersQuery(), contract: GovernanceAddress);
        cancellationToken.ThrowIfCancellationRequested();
        var p = LedgerParams.Default with { Governance = GovernanceParams.Default };
        for (var i = 0; i < GovernedParameters.All.Count; i++)
        {
            p = GovernedParameters.All[i].Write(p, (UInt128)values[i]);
        }
        return p;
    }

    public async Task<GovernanceInfo> GetGovernanceAsync(CancellationToken cancellationToken = default)
    {
        var values = await QueryAsync<ParametersQuery, List<BigInteger>>(new ParametersQuery(), contract: GovernanceAddress);
        var treasury = (UInt128)await QueryAsync<TreasuryQuery, BigInteger>(new TreasuryQuery(), contract: GovernanceAddress);
        var next = await QueryAsync<NextProposalIdQuery, ulong>(new NextProposalIdQuery(), contract: GovernanceAddress);
        var proposals = new List<ProposalInfo>();
        var releases = new List<(ulong TaskId, ModelReleaseInfo Release)>();
        for (var id = 1UL; id < next; id++)
        {
            var info = await ProposalAsync(id, cancellationToken);
            proposals.Add(info);
            if (info.Kind == "model_release" && info.Status == "passed")
            {
                releases.Add((info.TaskId, new ModelReleaseInfo(info.ModelHash, info.Name, info.License, info.Id, info.DecidedHeight)));
            }
        }
        return new GovernanceInfo(
            GovernedParameters.All.Select((p, i) => (p.Name, (UInt128)values[i])).ToArray(), treasury, proposals,
            releases.OrderBy(r => r.TaskId).ThenBy(r => r.Release.ProposalId).ToArray());
    }

    private async Task<ProposalInfo> ProposalAsync(ulong id, CancellationToken cancellationToken)
    {
        var o = await _web3.Eth.GetContractQueryHandler<ProposalOfQuery>().QueryDeserializingToObjectAsync<ProposalOfOutput>(new ProposalOfQuery { ProposalId = id }, GovernanceAddress);
        var p = o.Proposal;
        var i = p.Input;
        var votes = new SortedDictionary<Address, VoteOption>();
        for (var k = 0; k < o.Voters.Count; k++)
        {
            votes[Address.Parse(o.Voters[k])] = (VoteOption)o.Options[k];
        }
        var snapshot = await SnapshotAsync(p.StartHeight, votes.Keys, cancellationToken);
        var kind = (ProposalKind)i.Kind;
        var status = p.Status switch { 1 => ProposalStatus.Voting, 2 => ProposalStatus.Passed, 3 => ProposalStatus.Rejected, 4 => ProposalStatus.Vetoed, _ => ProposalStatus.Failed };
        TallyResult? tally = null;
        if (status != ProposalStatus.Voting)
        {
            var (yes, abstain, no, veto) = ((UInt128)p.Tally[0], (UInt128)p.Tally[1], (UInt128)p.Tally[2], (UInt128)p.Tally[3]);
            tally = new TallyResult(yes, abstain, no, veto, (UInt128)p.TotalPower, p.Quorum, status == ProposalStatus.Vetoed,
                status is ProposalStatus.Passed or ProposalStatus.Failed);
        }
        var info = new ProposalInfo(id, GovernanceRules.Name(kind), Address.Parse(p.Proposer), (UInt128)i.Deposit, p.StartHeight, p.EndHeight,
            status.ToString().ToLowerInvariant(), "", i.Parameter, (UInt128)i.Value, i.TaskId, new Hash32(i.ModelHash), i.Name, i.License, Address.Parse(i.Recipient),
            (UInt128)i.Amount, snapshot.TotalPower, votes, tally, p.DecidedHeight)
        { Snapshot = snapshot };
        var outcome = await OutcomeAsync(info, status, p.Failure, tally, cancellationToken);
        return info with { Outcome = outcome };
    }

    /// <summary>
    /// The voting power of a proposal's snapshot as far as its votes need it: each voter's own stake and every delegation
    /// from or to a voter, at the proposal's start height; the rest of the staked power as <see cref="VotingSnapshot.Unlisted"/>.
    /// </summary>
    private async Task<VotingSnapshot> SnapshotAsync(ulong start, IEnumerable<Address> voters, CancellationToken cancellationToken)
    {
        var own = new SortedDictionary<Address, UInt128>();
        var delegations = new SortedDictionary<(Address, Address), UInt128>();
        foreach (var voter in voters)
        {
            var stake = (UInt128)await QueryAsync<OwnStakeAtQuery, BigInteger>(new OwnStakeAtQuery { Account = voter.ToString(), Height = start });
            if (stake > 0)
            {
                own[voter] = stake;
            }
            var links = await _web3.Eth.GetContractQueryHandler<DelegationLinksQuery>()
                .QueryDeserializingToObjectAsync<DelegationLinksOutput>(new DelegationLinksQuery { Account = voter.ToString() }, ContractAddress);
            foreach (var (delegator, operatorAddress) in links.Operators.Select(o => (voter, Address.Parse(o))).Concat(links.Delegators.Select(d => (Address.Parse(d), voter))))
            {
                if (delegations.ContainsKey((delegator, operatorAddress)))
                {
                    continue;
                }
                var amount = (UInt128)await QueryAsync<DelegationAtQuery, BigInteger>(
                    new DelegationAtQuery { Delegator = delegator.ToString(), Operator = operatorAddress.ToString(), Height = start });
                if (amount > 0)
                {
                    delegations[(delegator, operatorAddress)] = amount;
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        var total = (UInt128)await QueryAsync<StakedAtQuery, BigInteger>(new StakedAtQuery { Height = start });
        var listed = own.Values.Aggregate(UInt128.Zero, (a, b) => a + b) + delegations.Values.Aggregate(UInt128.Zero, (a, b) => a + b);
        return new VotingSnapshot(own, delegations) { Unlisted = total - listed };
    }

    /// <summary>The outcome in the embedded ledger's words, from the status and failure code the contract recorded.</summary>
    private async Task<string> OutcomeAsync(ProposalInfo p, ProposalStatus status, byte failure, TallyResult? tally, CancellationToken cancellationToken)
    {
        var outcome = status switch
        {
            ProposalStatus.Voting => "",
            ProposalStatus.Vetoed => "vetoed: the deposit is burned",
            ProposalStatus.Rejected => tally is { QuorumReached: true } ? "rejected: yes did not reach the threshold" : "rejected: the quorum was not reached",
            ProposalStatus.Passed => p.Kind switch
            {
                "parameter_change" => $"passed: {p.Parameter} = {p.Value} from height {p.DecidedHeight}",
                "task_approval" => $"passed: task {p.TaskId} may open rounds",
                "model_release" => $"passed: {p.ModelHash} released as '{p.Name}' ({p.License}) for task {p.TaskId}",
                _ => p.TaskId != 0 ? $"passed: {Tokens.Format(p.Amount)} from the treasury into task {p.TaskId}'s pool" : $"passed: {Tokens.Format(p.Amount)} from the treasury to {p.Recipient}",
            },
            _ => failure switch
            {
                1 => $"failed: {p.Parameter} = {p.Value} is no longer allowed by the parameters in force at height {p.DecidedHeight}",
                2 => $"failed: task {p.TaskId} is closed",
                3 => $"failed: the treasury held less than the {Tokens.Format(p.Amount)} asked",
                _ => $"failed: task {p.TaskId} can no longer be funded (closed, or a round has settled)",
            },
        };
        if (status is not (ProposalStatus.Voting or ProposalStatus.Passed) && p.Kind == "task_approval"
            && await QueryAsync<ApprovalQuery, byte>(new ApprovalQuery { TaskId = p.TaskId }, contract: TasksAddress) == 3
            && await GetTaskAsync(p.TaskId, cancellationToken) is { } task)
        {
            outcome += $"; task {task.Id} is closed and its pool returned to {task.Creator}";
        }
        return outcome;
    }

    /// <summary>Tallies every proposal whose voting period has ended, if the chain has one due; returns whether it sent.</summary>
    public async Task<bool> EndVotingIfDueAsync(CancellationToken cancellationToken = default)
    {
        if (Relayer is null)
        {
            return false;
        }
        var chain = await _web3.Eth.GetContractQueryHandler<ChainParamsQuery>().QueryDeserializingToObjectAsync<ChainParamsOutput>(new ChainParamsQuery(), ContractAddress);
        var head = (ulong)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;
        // The next block is the one the keeper's transaction lands in.
        if (chain.Chain.GovernanceDue == 0 || head + 1 < chain.Chain.GovernanceDue)
        {
            return false;
        }
        await SendKeeperAsync(GovernanceAddress, new EndVotingFunction(), cancellationToken);
        return true;
    }

    /// <summary>A governance refusal in the embedded ledger's words, or null when <paramref name="revert"/> is not one.</summary>
    private async Task<LedgerException?> DecodeGovernanceAsync(SmartContractCustomErrorRevertException revert, Transaction tx)
    {
        if (revert.IsCustomErrorFor<AwaitingApprovalError>())
        {
            return new LedgerException(LedgerError.AwaitingApproval,
                $"task_id: task {revert.DecodeError<AwaitingApprovalError>().TaskId} opens no round until a task_approval proposal for it passes");
        }
        if (tx is not (SubmitProposal or VoteProposal))
        {
            return null;
        }
        if (revert.IsCustomErrorFor<DepositTooSmallError>() && tx is SubmitProposal small)
        {
            var e = revert.DecodeError<DepositTooSmallError>();
            return new LedgerException(LedgerError.DepositTooSmall,
                $"deposit: {Tokens.Format(small.Deposit)} is below governance.min_deposit {Tokens.Format((UInt128)e.Minimum)}");
        }
        if (revert.IsCustomErrorFor<UnknownProposalError>())
        {
            return new LedgerException(LedgerError.UnknownProposal, $"proposal_id: no proposal {revert.DecodeError<UnknownProposalError>().ProposalId} on this ledger");
        }
        if (revert.IsCustomErrorFor<VotingClosedError>())
        {
            var e = revert.DecodeError<VotingClosedError>();
            return new LedgerException(LedgerError.VotingClosed, $"proposal_id: the voting period of proposal {e.ProposalId} ended at height {e.EndHeight}");
        }
        if (revert.IsCustomErrorFor<NoVotingPowerError>())
        {
            if (tx is VoteProposal v)
            {
                var start = (await _web3.Eth.GetContractQueryHandler<ProposalOfQuery>()
                    .QueryDeserializingToObjectAsync<ProposalOfOutput>(new ProposalOfQuery { ProposalId = v.ProposalId }, GovernanceAddress)).Proposal.StartHeight;
                return new LedgerException(LedgerError.NoVotingPower,
                    $"voter: {v.From} had no stake and no delegation at height {start}, when proposal {v.ProposalId} started");
            }
            return new LedgerException(LedgerError.NoVotingPower, "stake: nothing is staked on this chain, so nobody could vote");
        }
        if (revert.IsCustomErrorFor<InsufficientBalanceError>() && tx is SubmitProposal spend && revert.DecodeError<InsufficientBalanceError>() is { } b
            && string.Equals(b.Account, GovernanceAddress, StringComparison.OrdinalIgnoreCase))
        {
            return new LedgerException(LedgerError.InsufficientBalance,
                $"amount: {Tokens.Format(spend.Amount)} is more than the treasury's {Tokens.Format((UInt128)b.Available)}");
        }
        if (revert.IsCustomErrorFor<ProposalRefusedError>())
        {
            var code = revert.DecodeError<ProposalRefusedError>().Code;
            if (tx is VoteProposal vote)
            {
                return new LedgerException(LedgerError.InvalidParameter, $"option: must be yes (1), abstain (2), no (3) or no_with_veto (4); got {(byte)vote.Option}");
            }
            var p = (SubmitProposal)tx;
            var kind = GovernanceRules.Name(p.Kind);
            var message = code switch
            {
                1 => $"kind: must be parameter_change, task_approval, model_release or treasury_spend; got {(byte)p.Kind}",
                2 => $"parameter, value: a {kind} proposal leaves them empty",
                3 => $"task_id: a {kind} proposal leaves it empty",
                4 => $"model_hash: a {kind} proposal leaves it empty",
                5 => $"name, license: a {kind} proposal leaves them empty",
                6 => $"recipient, amount: a {kind} proposal leaves them empty",
                7 => await ParameterRefusalAsync(p),
                8 => $"task_id: task {p.TaskId} is already approved",
                9 => $"task_id: task {p.TaskId} was created while governance.task_approval was off; it needs no approval",
                10 => $"task_id: task {p.TaskId} already has an approval proposal in its voting period",
                11 => $"model_hash: {p.ModelHash} is not a model any settled round of task {p.TaskId} produced",
                12 => "name: must be 1 to 100 characters",
                13 => "license: must be 1 to 100 characters",
                14 => "recipient, task_id: name exactly one: an account to pay, or a task whose reward pool to fund",
                15 => $"task_id: task {p.TaskId} has settled rounds; its pool is funded only before its first round settles",
                _ => $"{tx.TypeName}: refused by the contract (code {code})",
            };
            return new LedgerException(LedgerError.InvalidParameter, message);
        }
        return null;
    }

    /// <summary>The embedded ledger's words for a refused parameter change, computed from the parameters in force.</summary>
    private async Task<string> ParameterRefusalAsync(SubmitProposal p)
    {
        var current = await GetGovernedParamsAsync();
        var supply = (UInt128)await QueryAsync<TotalSupplyQuery, BigInteger>(new TotalSupplyQuery());
        return GovernedParameters.CheckChange(current, supply, p.Parameter, p.Value)
            ?? $"{p.Parameter}: {p.Value} is refused by the contract";
    }
}
