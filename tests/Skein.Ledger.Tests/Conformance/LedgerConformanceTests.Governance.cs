using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Conformance;

/// <summary>Governance on every backend: proposals, votes, snapshots, tallies, execution and refusals.</summary>
public abstract partial class LedgerConformanceTests
{
    private static TestChain GovernedChain(GovernanceParams rules, params string[] names) =>
        new(LedgerParams.Default with { UnbondingBlocks = 3, Governance = rules }, names);

    private static Func<Address, ulong, Transaction> Change(string parameter, UInt128 value, ulong deposit = 10) =>
        (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = parameter, Value = value, Deposit = Tokens.Whole(deposit) };

    private static Func<Address, ulong, Transaction> Vote(ulong id, VoteOption option) =>
        (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = id, Option = option };

    private static async Task<ProposalInfo> ProposalAsync(ILedger ledger, ulong id) =>
        (await ledger.GetGovernanceAsync(Ct)).Proposals.Single(p => p.Id == id);

    /// <summary>
    /// Lets proposal <paramref name="id"/>'s voting period run out and has it decided: empty blocks up to its end, then a
    /// transaction (on an EVM chain the first transaction at or after the end tallies; the embedded ledger tallies at the block's start).
    /// </summary>
    private async Task<ProposalInfo> DecideAsync(ILedger ledger, TestChain c, string who, ulong id)
    {
        var end = (await ProposalAsync(ledger, id)).EndHeight;
        var interval = TimeSpan.FromMilliseconds((await ledger.GetMarketStatusAsync(Ct)).Params.BlockIntervalMs);
        for (var i = 0; i < 64 && (await ledger.GetStatusAsync(Ct)).Height + 1 < end; i++)
        {
            await AdvanceAsync(ledger, interval);
        }
        await Send(ledger, c, who, (f, n) => new Transfer { From = f, Nonce = n, To = c[who], Amount = 1 });
        var decided = await ProposalAsync(ledger, id);
        Assert.NotEqual("voting", decided.Status);
        return decided;
    }

    private static async Task StakeAsync(ILedger ledger, TestChain c, string who, Role role, ulong amount, bool join = true)
    {
        await Send(ledger, c, who, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(amount) });
        if (join)
        {
            await Send(ledger, c, who, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = role });
        }
    }

    /// <summary>One round of task 1 in which t1's update is accepted and t2's rejected by both validators.</summary>
    private static async Task CheatedRoundAsync(ILedger ledger, TestChain c, uint round)
    {
        await Send(ledger, c, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = round, ModelHash = TestRound.Hash(round == 1 ? 0 : ((int)round * 10) - 1) });
        await Send(ledger, c, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = round, UpdateHash = TestRound.Hash((int)round * 10 + 1), Samples = 100 });
        await Send(ledger, c, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = round, UpdateHash = TestRound.Hash((int)round * 10 + 2), Samples = 100 });
        await Send(ledger, c, "carol", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = round });
        ulong[] scores = [950_000, 10_000];
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(ledger, c, v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = round, Commitment = SignedTransaction.ScoreCommitment(1, round, f, scores, TestRound.Salt(v)) });
        }
        await Send(ledger, c, "carol", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = round });
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(ledger, c, v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = round, Scores = scores, Salt = TestRound.Salt(v) });
        }
        await Send(ledger, c, "carol", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = round, NewModelHash = TestRound.Hash((int)round * 10 + 9) });
    }

    [Fact]
    public async Task A_passed_parameter_change_applies_to_later_rounds_only_and_the_treasury_keeps_its_share_of_slashes()
    {
        var c = GovernedChain(GovernanceParams.Default with { VotingPeriodBlocks = 6, TreasurySlashBps = 5_000 }, "carol", "t1", "t2", "v1", "v2");
        await using var ledger = await CreateAsync(c.Genesis);
        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 100, rounds: 2, minStake: 10, trainers: 2, validators: 2));
        await StakeAsync(ledger, c, "t1", Role.Trainer, 100);
        await StakeAsync(ledger, c, "t2", Role.Trainer, 100);
        await StakeAsync(ledger, c, "v1", Role.Validator, 100);
        await StakeAsync(ledger, c, "v2", Role.Validator, 100);

        await CheatedRoundAsync(ledger, c, 1);
        var afterFirst = (await ledger.GetStakeAsync(c["t2"], Role.Trainer, Ct)).Self;
        Assert.Equal(Tokens.Whole(90), afterFirst); // the genesis slash of 10%

        var carol = await ledger.GetBalanceAsync(c["carol"], Ct);
        await Send(ledger, c, "carol", Change("incentives.trainer_slash_bps", 5_000));
        Assert.Equal(carol - Tokens.Whole(10), await ledger.GetBalanceAsync(c["carol"], Ct));
        foreach (var voter in new[] { "t1", "v1", "v2" })
        {
            await Send(ledger, c, voter, Vote(1, VoteOption.Yes));
        }
        var decided = await DecideAsync(ledger, c, "t1", 1);
        Assert.Equal("passed", decided.Status);
        Assert.True(decided.Tally!.Passed);
        Assert.Equal(Tokens.Whole(100) + Tokens.Whole(100) + Tokens.Whole(100), decided.Tally.Yes);
        Assert.Equal(Tokens.Whole(390), decided.Tally.TotalPower);
        var gov = await ledger.GetGovernanceAsync(Ct);
        Assert.Equal(5_000, (int)gov.Parameters.Single(p => p.Name == "incentives.trainer_slash_bps").Value);
        Assert.Equal(carol, await ledger.GetBalanceAsync(c["carol"], Ct)); // the deposit is back

        await CheatedRoundAsync(ledger, c, 2);
        Assert.Equal(afterFirst / 2, (await ledger.GetStakeAsync(c["t2"], Role.Trainer, Ct)).Self);
        var slashed = Tokens.Whole(10) + (afterFirst / 2);
        gov = await ledger.GetGovernanceAsync(Ct);
        Assert.Equal(slashed / 2, gov.Treasury);

        var status = await ledger.GetStatusAsync(Ct);
        UInt128 held = gov.Treasury + (await ledger.GetTaskAsync(1, Ct))!.Escrow;
        foreach (var who in new[] { "carol", "t1", "t2", "v1", "v2" })
        {
            held += await ledger.GetBalanceAsync(c[who], Ct);
            held += (await ledger.GetStakeAsync(c[who], Role.Trainer, Ct)).Self + (await ledger.GetStakeAsync(c[who], Role.Validator, Ct)).Self;
        }
        Assert.Equal(status.GenesisSupply + status.Emitted - status.Burned, held);
        Assert.Equal(slashed - (slashed / 2), status.Burned);
    }

    [Fact]
    public async Task Voting_power_is_the_stake_at_the_proposals_start_and_a_delegators_vote_overrides_its_operators()
    {
        var c = GovernedChain(GovernanceParams.Default with { VotingPeriodBlocks = 8 }, "carol", "op", "del", "late");
        await using var ledger = await CreateAsync(c.Genesis);
        await Send(ledger, c, "op", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        await Send(ledger, c, "del", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["op"], Role = Role.Validator, Amount = Tokens.Whole(60) });
        await Send(ledger, c, "carol", Change("governance.quorum_bps", 2_000));

        // Stake moved after the start changes nothing: new stake has no power, withdrawn stake keeps its power for this proposal.
        await Send(ledger, c, "late", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(500) });
        Assert.Equal(LedgerError.NoVotingPower, (await Refused(ledger, c, "late", Vote(1, VoteOption.NoWithVeto))).Code);
        await Send(ledger, c, "del", (f, n) => new UndelegateStake { From = f, Nonce = n, Operator = c["op"], Role = Role.Validator, Amount = Tokens.Whole(60) });
        await Send(ledger, c, "op", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(300) });
        await Send(ledger, c, "op", Vote(1, VoteOption.Yes));
        var counting = await ProposalAsync(ledger, 1);
        var sofar = GovernanceTally.Count(counting.Snapshot, counting.Votes, GovernanceParams.Default);
        Assert.Equal(Tokens.Whole(160), sofar.Yes); // the operator's vote carries the delegation while its delegator is silent
        await Send(ledger, c, "del", Vote(1, VoteOption.No));
        await Send(ledger, c, "del", Vote(1, VoteOption.Abstain)); // a changed vote replaces the first

        var decided = await DecideAsync(ledger, c, "carol", 1);
        Assert.Equal(Tokens.Whole(100), decided.Tally!.Yes);
        Assert.Equal(Tokens.Whole(60), decided.Tally.Abstain);
        Assert.Equal(UInt128.Zero, decided.Tally.No);
        Assert.Equal(Tokens.Whole(160), decided.Tally.TotalPower);
        Assert.Equal("passed", decided.Status);
        Assert.Equal(2_000, (int)(await ledger.GetGovernanceAsync(Ct)).Parameters.Single(p => p.Name == "governance.quorum_bps").Value);
        Assert.Equal(Tokens.Whole(1_000), await ledger.GetBalanceAsync(c["carol"], Ct)); // the deposit came back
    }

    [Fact]
    public async Task With_task_approval_on_a_task_opens_no_round_before_a_passed_proposal_and_a_failed_one_returns_its_pool()
    {
        var c = GovernedChain(GovernanceParams.Default with { VotingPeriodBlocks = 5, TaskApproval = true }, "carol", "t1", "v1");
        await using var ledger = await CreateAsync(c.Genesis);
        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 90, rounds: 1, minStake: 10, trainers: 1, validators: 1));
        await StakeAsync(ledger, c, "t1", Role.Trainer, 100);
        await StakeAsync(ledger, c, "v1", Role.Validator, 100);
        var open = (Func<Address, ulong, Transaction>)((f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        Assert.Equal(LedgerError.AwaitingApproval, (await Refused(ledger, c, "carol", open)).Code);

        var approve = (Func<Address, ulong, Transaction>)((f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 1, Deposit = Tokens.Whole(10) });
        await Send(ledger, c, "carol", approve);
        Assert.Equal(LedgerError.InvalidParameter, (await Refused(ledger, c, "carol", approve)).Code); // one approval proposal at a time
        await Send(ledger, c, "t1", Vote(1, VoteOption.No));
        await Send(ledger, c, "v1", Vote(1, VoteOption.No));
        var refused = await DecideAsync(ledger, c, "v1", 1);
        Assert.Equal("rejected", refused.Status);
        var task = await ledger.GetTaskAsync(1, Ct);
        Assert.True(task!.Completed);
        Assert.Equal(UInt128.Zero, task.Escrow);
        Assert.Equal(Tokens.Whole(1_000), await ledger.GetBalanceAsync(c["carol"], Ct)); // pool and deposit both back
        Assert.Equal(LedgerError.TaskCompleted, (await Refused(ledger, c, "carol", open)).Code);

        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 90, rounds: 1, minStake: 10, trainers: 1, validators: 1));
        await Send(ledger, c, "t1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 2, Role = Role.Trainer });
        await Send(ledger, c, "v1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 2, Role = Role.Validator });
        await Send(ledger, c, "carol", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 2, Deposit = Tokens.Whole(10) });
        await Send(ledger, c, "v1", Vote(2, VoteOption.Yes));
        Assert.Equal("passed", (await DecideAsync(ledger, c, "v1", 2)).Status);
        await Send(ledger, c, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 2, Round = 1, ModelHash = TestRound.Hash(0) });
        Assert.Equal(RoundPhase.Training, (await ledger.GetRoundAsync(2, 1, Ct))!.Phase);
    }

    [Fact]
    public async Task Governance_refusals_name_their_field_and_change_nothing()
    {
        var c = GovernedChain(GovernanceParams.Default with { VotingPeriodBlocks = 4 }, "carol", "v1", "nobody");
        await using var ledger = await CreateAsync(c.Genesis);
        async Task Expect(LedgerError code, string field, string who, Func<Address, ulong, Transaction> build)
        {
            var refusal = await Refused(ledger, c, who, build);
            Assert.Equal(code, refusal.Code);
            Assert.StartsWith(field, refusal.Message, StringComparison.Ordinal);
        }

        await Expect(LedgerError.NoVotingPower, "stake:", "carol", Change("incentives.trainer_slash_bps", 2_000));
        await Send(ledger, c, "v1", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        var root = (await ledger.GetStatusAsync(Ct)).StateRoot;
        await Expect(LedgerError.DepositTooSmall, "deposit:", "carol", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = "unbonding_blocks", Value = 5, Deposit = 1 });
        await Expect(LedgerError.InvalidParameter, "incentives.trainer_slash_bps: must be in [0, 10000]", "carol", Change("incentives.trainer_slash_bps", 20_000));
        await Expect(LedgerError.InvalidParameter, "unbonding_blocks: must be in [1,", "carol", Change("unbonding_blocks", 0));
        await Expect(LedgerError.InvalidParameter, "parameter: 'incentives.nothing' is not governed", "carol", Change("incentives.nothing", 1));
        await Expect(LedgerError.InvalidParameter, "incentives.emission_per_round: with", "carol", Change("incentives.emission_per_round", UInt128.One << 110));
        await Expect(LedgerError.InvalidParameter, "task_id: a parameter_change proposal leaves it empty", "carol",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = "unbonding_blocks", Value = 5, TaskId = 3, Deposit = Tokens.Whole(10) });
        await Expect(LedgerError.InvalidParameter, "kind:", "carol", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = (ProposalKind)9, Deposit = Tokens.Whole(10) });
        await Expect(LedgerError.InsufficientBalance, "amount:", "carol",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TreasurySpend, Recipient = c["carol"], Amount = Tokens.Whole(1), Deposit = Tokens.Whole(10) });
        await Expect(LedgerError.InvalidParameter, "recipient, task_id:", "carol",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TreasurySpend, Amount = Tokens.Whole(1), Deposit = Tokens.Whole(10) });
        await Expect(LedgerError.UnknownTask, "task_id:", "carol",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ModelRelease, TaskId = 9, ModelHash = TestRound.Hash(1), Name = "m", License = "MIT", Deposit = Tokens.Whole(10) });
        await Expect(LedgerError.InsufficientBalance, "balance:", "carol", Change("unbonding_blocks", 5, deposit: 5_000));
        await Expect(LedgerError.UnknownProposal, "proposal_id:", "v1", Vote(7, VoteOption.Yes));
        Assert.Equal(root, (await ledger.GetStatusAsync(Ct)).StateRoot);
        Assert.Empty((await ledger.GetGovernanceAsync(Ct)).Proposals);

        await Send(ledger, c, "carol", Change("unbonding_blocks", 5));
        await Expect(LedgerError.NoVotingPower, "voter:", "nobody", Vote(1, VoteOption.Yes));
        await Expect(LedgerError.InvalidParameter, "option:", "v1", Vote(1, (VoteOption)7));
        await Send(ledger, c, "v1", Vote(1, VoteOption.NoWithVeto));
        var vetoed = await DecideAsync(ledger, c, "v1", 1);
        Assert.Equal("vetoed", vetoed.Status);
        Assert.Equal(Tokens.Whole(990), await ledger.GetBalanceAsync(c["carol"], Ct)); // a vetoed deposit is burned
        Assert.Equal(Tokens.Whole(10), (await ledger.GetStatusAsync(Ct)).Burned);
        Assert.Equal(3, (int)(await ledger.GetGovernanceAsync(Ct)).Parameters.Single(p => p.Name == "unbonding_blocks").Value);
        await Expect(LedgerError.VotingClosed, "proposal_id:", "v1", Vote(1, VoteOption.Yes));
    }
}
