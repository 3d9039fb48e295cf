using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Governance;

public sealed class GovernanceTests
{
    private static readonly UInt128 Deposit = Tokens.Whole(10);

    private static Func<Address, ulong, Transaction> Change(string parameter, UInt128 value, UInt128? deposit = null) =>
        (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = parameter, Value = value, Deposit = deposit ?? Deposit };

    private static Func<Address, ulong, Transaction> Vote(ulong id, VoteOption option) =>
        (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = id, Option = option };

    /// <summary>Makes blocks until proposal <paramref name="id"/> is decided (bounded by its voting period).</summary>
    private static ProposalState Decide(TestChain c, ulong id)
    {
        var proposal = c.State.Proposals[id];
        for (var i = 0UL; proposal.Status == ProposalStatus.Voting && i <= proposal.EndHeight; i++)
        {
            c.NextBlock();
        }
        Assert.NotEqual(ProposalStatus.Voting, proposal.Status);
        return proposal;
    }

    [Fact]
    public void A_passed_slash_fraction_applies_to_the_next_rounds_cheat_not_to_an_earlier_one()
    {
        var c = TestRound.Setup();
        ulong[] scores = [900_000, 880_000, 100_000];
        void PlayRound(uint r)
        {
            TestRound.Open(c, r, r == 1 ? TestRound.Hash(0) : TestRound.Hash(10 + (int)r - 1));
            foreach (var (t, i) in new[] { ("t1", 1), ("t2", 2), ("t3", 3) })
            {
                TestRound.Submit(c, t, r, (int)(10 * r) + i);
            }
            TestRound.Close(c, r, training: true);
            foreach (var v in new[] { "v1", "v2", "v3" })
            {
                TestRound.Commit(c, v, r, scores);
            }
            TestRound.Close(c, r, training: false);
            foreach (var v in new[] { "v1", "v2", "v3" })
            {
                TestRound.Reveal(c, v, r, scores);
            }
            TestRound.Finalize(c, r, TestRound.Hash(10 + (int)r));
        }

        // Round 1 under the genesis rule: 10% of t3's 100 tokens.
        PlayRound(1);
        Assert.Equal(Tokens.Whole(90), c.State.StakeOf(c["t3"], Role.Trainer).Self);

        c.Do("dave", Change("incentives.trainer_slash_bps", 5_000));
        var id = c.State.Proposals.Keys.Single();
        foreach (var voter in new[] { "t1", "t2", "v1", "v2", "v3" })
        {
            c.Do(voter, Vote(id, VoteOption.Yes));
        }
        c.Do("t3", Vote(id, VoteOption.No));
        Assert.Equal(1_000u, c.State.Params.Incentives.TrainerSlashBps);
        var decided = Decide(c, id);
        Assert.Equal(ProposalStatus.Passed, decided.Status);
        Assert.Equal(5_000u, c.State.Params.Incentives.TrainerSlashBps);
        Assert.Equal(c.State.Height, decided.DecidedHeight);
        // The slash of round 1 is what it was; round 2's cheat loses half of what it has left.
        Assert.Equal(Tokens.Whole(90), c.State.StakeOf(c["t3"], Role.Trainer).Self);
        PlayRound(2);
        Assert.Equal(Tokens.Whole(45), c.State.StakeOf(c["t3"], Role.Trainer).Self);
        Assert.Equal(Tokens.Whole(1_000), c.State.BalanceOf(c["dave"]));
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void A_rejected_proposal_changes_nothing_but_locking_and_returning_its_deposit_and_a_vetoed_one_burns_it()
    {
        var c = TestRound.Setup();
        var paramsBefore = c.State.Params;
        var balances = c.State.Accounts.ToDictionary(a => a.Key, a => a.Value.Balance);
        c.Do("dave", Change("unbonding_blocks", 50));
        Assert.Equal(Tokens.Whole(990), c.State.BalanceOf(c["dave"]));
        Assert.True(c.State.SupplyIsConserved(), "the locked deposit is still counted");
        // Only t1 votes: 100 of 900 staked, below the 33.4% quorum.
        c.Do("t1", Vote(1, VoteOption.Yes));
        var rejected = Decide(c, 1);
        Assert.Equal(ProposalStatus.Rejected, rejected.Status);
        Assert.Equal("rejected: the quorum was not reached", rejected.Outcome);
        Assert.Equal(paramsBefore, c.State.Params);
        Assert.Equal(balances, c.State.Accounts.ToDictionary(a => a.Key, a => a.Value.Balance));

        var burnedBefore = c.State.Burned;
        c.Do("dave", Change("unbonding_blocks", 50));
        c.Do("v1", Vote(2, VoteOption.NoWithVeto));
        c.Do("v2", Vote(2, VoteOption.Yes));
        c.Do("t1", Vote(2, VoteOption.Yes));
        var vetoed = Decide(c, 2);
        Assert.Equal(ProposalStatus.Vetoed, vetoed.Status);
        Assert.Equal(paramsBefore, c.State.Params);
        Assert.Equal(Tokens.Whole(990), c.State.BalanceOf(c["dave"]));
        Assert.Equal(burnedBefore + Deposit, c.State.Burned);
        Assert.True(c.State.SupplyIsConserved());
    }

    /// <summary>The worked example of docs/governance.md.</summary>
    [Fact]
    public void A_delegators_own_vote_overrides_its_operators_for_exactly_its_share()
    {
        var c = TestRound.Setup();
        c.Do("dave", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["v1"], Role = Role.Validator, Amount = Tokens.Whole(40) });
        c.Do("carol", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["v1"], Role = Role.Validator, Amount = Tokens.Whole(60) });
        c.Do("t1", Change("incentives.trainer_share_bps", 6_000));
        c.Do("v1", Vote(1, VoteOption.Yes));
        c.Do("dave", Vote(1, VoteOption.No));
        var tally = Decide(c, 1).Tally!;
        // v1's own 300 and carol's 60 (carol did not vote) vote yes; dave's 40 votes no.
        Assert.Equal(Tokens.Whole(360), tally.Yes);
        Assert.Equal(Tokens.Whole(40), tally.No);
        Assert.Equal(Tokens.Whole(1_000), tally.TotalPower);
        // 400 of 1,000 voted (quorum 33.4%), no veto, yes 360 of 400 (threshold 50%): passed, and in force.
        Assert.True(tally.QuorumReached);
        Assert.False(tally.Vetoed);
        Assert.True(tally.Passed);
        Assert.Equal(6_000u, c.State.Params.Incentives.TrainerShareBps);
        // t1 staked 100 of its 1,000; its deposit came back.
        Assert.Equal(Tokens.Whole(900), c.State.BalanceOf(c["t1"]));
    }

    [Fact]
    public void Stake_moved_after_the_start_changes_nothing_and_newcomers_cannot_vote()
    {
        var c = TestRound.Setup();
        c.Do("dave", Change("incentives.trainer_share_bps", 6_000));
        // v1 leaves its task and unbonds everything after the start: it still votes with its 300 of the snapshot.
        c.Do("v1", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        c.Do("v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(300) });
        c.Do("v1", Vote(1, VoteOption.Yes));
        c.Do("v2", Vote(1, VoteOption.Abstain));
        // dave stakes after the start: no power in this proposal.
        c.Do("dave", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(500) });
        var refused = c.Refused(LedgerError.NoVotingPower, "dave", Vote(1, VoteOption.No));
        Assert.Contains("had no stake and no delegation at height", refused.Message, StringComparison.Ordinal);
        var tally = Decide(c, 1).Tally!;
        Assert.Equal(Tokens.Whole(300), tally.Yes);
        Assert.Equal(Tokens.Whole(200), tally.Abstain);
        Assert.Equal(Tokens.Whole(900), tally.TotalPower);
        Assert.True(tally.QuorumReached);
        Assert.True(tally.Passed);
    }

    [Fact]
    public void With_task_approval_on_a_task_opens_no_round_until_approved_and_a_refused_one_returns_its_pool()
    {
        var c = new TestChain(LedgerParams.Default with { UnbondingBlocks = 3, Governance = GovernanceParams.Default with { TaskApproval = true, VotingPeriodBlocks = 5 } },
            "carol", "erin", "v1", "v2");
        foreach (var v in new[] { "v1", "v2" })
        {
            c.Do(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        }
        c.Do("carol", (f, n) => TestRound.Task(f, n));
        c.Do("erin", (f, n) => TestRound.Task(f, n) with { SpecHash = TestRound.Hash(2) });
        Assert.Equal(Tokens.Whole(700), c.State.BalanceOf(c["carol"]));
        var refused = c.Refused(LedgerError.AwaitingApproval, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        Assert.Equal("task_id: task 1 opens no round until a task_approval proposal for it passes", refused.Message);

        c.Do("carol", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 1, Deposit = Deposit });
        c.Do("erin", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 2, Deposit = Deposit });
        c.Refused(LedgerError.InvalidParameter, "erin", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 2, Deposit = Deposit });
        c.Do("v1", Vote(1, VoteOption.Yes));
        c.Do("v2", Vote(1, VoteOption.Yes));
        c.Do("v1", Vote(2, VoteOption.No));
        c.Do("v2", Vote(2, VoteOption.No));
        Assert.Equal(ProposalStatus.Passed, Decide(c, 1).Status);
        var failed = Decide(c, 2);
        Assert.Equal(ProposalStatus.Rejected, failed.Status);
        Assert.EndsWith($"task 2 is closed and its pool returned to {c["erin"]}", failed.Outcome, StringComparison.Ordinal);

        c.Do("carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        Assert.Equal(Tokens.Whole(1_000), c.State.BalanceOf(c["erin"]));
        Assert.True(c.State.Tasks[2].Refused);
        c.Refused(LedgerError.TaskCompleted, "erin", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 2, Round = 1, ModelHash = TestRound.Hash(0) });
        Assert.True(c.State.SupplyIsConserved());
    }

    [Fact]
    public void Slashes_feed_the_treasury_and_passed_proposals_spend_it_and_release_a_model()
    {
        var c = new TestChain(LedgerParams.Default with { UnbondingBlocks = 3, Governance = GovernanceParams.Default with { TreasurySlashBps = 5_000, VotingPeriodBlocks = 4 } },
            "carol", "t1", "t2", "t3", "v1", "v2", "v3", "dave");
        c.Do("carol", (f, n) => TestRound.Task(f, n));
        foreach (var t in new[] { "t1", "t2", "t3" })
        {
            c.Do(t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
            c.Do(t, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            c.Do(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
            c.Do(v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }
        c.NextBlock();
        ulong[] scores = [900_000, 880_000, 100_000];
        TestRound.Open(c, 1, TestRound.Hash(0));
        TestRound.Submit(c, "t1", 1, 1);
        TestRound.Submit(c, "t2", 1, 2);
        TestRound.Submit(c, "t3", 1, 3);
        TestRound.Close(c, 1, training: true);
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Commit(c, v, 1, scores);
        }
        TestRound.Close(c, 1, training: false);
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            TestRound.Reveal(c, v, 1, scores);
        }
        var burned = c.State.Burned;
        TestRound.Finalize(c, 1, TestRound.Hash(11));
        // t3 lost 10 tokens: half to the treasury, half burned.
        Assert.Equal(Tokens.Whole(5), c.State.Treasury);
        Assert.Equal(burned + Tokens.Whole(5), c.State.Burned);

        var overspend = c.Refused(LedgerError.InsufficientBalance, "dave", (f, n) => new SubmitProposal
        { From = f, Nonce = n, Kind = ProposalKind.TreasurySpend, Recipient = c["dave"], Amount = Tokens.Whole(6), Deposit = Deposit });
        Assert.Contains("is more than the treasury's 5", overspend.Message, StringComparison.Ordinal);
        c.Do("dave", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TreasurySpend, Recipient = c["dave"], Amount = Tokens.Whole(4), Deposit = Deposit });
        var notAModel = c.Refused(LedgerError.InvalidParameter, "carol", (f, n) => new SubmitProposal
        { From = f, Nonce = n, Kind = ProposalKind.ModelRelease, TaskId = 1, ModelHash = TestRound.Hash(99), Name = "v1", License = "apache-2.0", Deposit = Deposit });
        Assert.Contains("is not a model any settled round of task 1 produced", notAModel.Message, StringComparison.Ordinal);
        c.Do("carol", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ModelRelease, TaskId = 1, ModelHash = TestRound.Hash(11), Name = "sotu-tiny v1", License = "apache-2.0", Deposit = Deposit });
        foreach (var voter in new[] { "t1", "t2", "v1", "v2", "v3" })
        {
            c.Do(voter, Vote(1, VoteOption.Yes));
            c.Do(voter, Vote(2, VoteOption.Yes));
        }
        Assert.Equal(ProposalStatus.Passed, Decide(c, 1).Status);
        Assert.Equal(ProposalStatus.Passed, Decide(c, 2).Status);
        Assert.Equal(Tokens.Whole(1_000 - 10 + 10 + 4), c.State.BalanceOf(c["dave"]));
        Assert.Equal(Tokens.Whole(1), c.State.Treasury);
        var release = Assert.Single(c.State.Tasks[1].Releases);
        Assert.Equal((TestRound.Hash(11), "sotu-tiny v1", "apache-2.0", 2UL), (release.ModelHash, release.Name, release.License, release.ProposalId));
        Assert.True(c.State.SupplyIsConserved());
    }

    [Theory]
    [InlineData("incentives.trainer_slash_bps", "10001", "incentives.trainer_slash_bps: must be in [0, 10000], got 10001")]
    [InlineData("unbonding_blocks", "0", "unbonding_blocks: must be in [1, 10000000], got 0")]
    [InlineData("incentives.supermajority_bps", "5000", "incentives.supermajority_bps: must be in [5001, 10000], got 5000")]
    [InlineData("governance.threshold_bps", "10000", "governance.threshold_bps: must be in [5000, 9999], got 10000")]
    [InlineData("incentives.emission_per_round", "1000000000000000000000000000000", "past governance.max_supply")]
    [InlineData("genesis.chain_id", "7", "parameter: 'genesis.chain_id' is not governed")]
    public void Parameter_changes_out_of_range_or_past_the_supply_cap_are_refused_when_proposed(string parameter, string value, string expected)
    {
        var c = TestRound.Setup();
        var ex = c.Refused(LedgerError.InvalidParameter, "dave", Change(parameter, UInt128.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(Tokens.Whole(1_000), c.State.BalanceOf(c["dave"]));
    }

    [Fact]
    public void Every_other_refusal_names_its_field_and_leaves_the_state_as_it_was()
    {
        var c = TestRound.Setup();
        Assert.Contains("deposit: 9.99 is below governance.min_deposit 10", c.Refused(LedgerError.DepositTooSmall, "dave",
            Change("unbonding_blocks", 50, Tokens.Whole(10) - Tokens.Whole(1) / 100)).Message, StringComparison.Ordinal);
        Assert.Contains("task_id: a parameter_change proposal leaves it empty", c.Refused(LedgerError.InvalidParameter, "dave",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = "unbonding_blocks", Value = 50, TaskId = 1, Deposit = Deposit }).Message, StringComparison.Ordinal);
        Assert.Contains("kind: must be parameter_change, task_approval, model_release or treasury_spend; got 9", c.Refused(LedgerError.InvalidParameter, "dave",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = (ProposalKind)9, Deposit = Deposit }).Message, StringComparison.Ordinal);
        Assert.Contains("it needs no approval", c.Refused(LedgerError.InvalidParameter, "carol",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TaskApproval, TaskId = 1, Deposit = Deposit }).Message, StringComparison.Ordinal);
        Assert.Contains("recipient, task_id: name exactly one", c.Refused(LedgerError.InvalidParameter, "dave",
            (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.TreasurySpend, Amount = 1, Deposit = Deposit }).Message, StringComparison.Ordinal);
        Assert.Contains("no proposal 5", c.Refused(LedgerError.UnknownProposal, "t1", Vote(5, VoteOption.Yes)).Message, StringComparison.Ordinal);

        c.Do("dave", Change("unbonding_blocks", 50));
        Assert.Contains("option: must be yes (1), abstain (2), no (3) or no_with_veto (4); got 7",
            c.Refused(LedgerError.InvalidParameter, "t1", Vote(1, (VoteOption)7)).Message, StringComparison.Ordinal);
        Assert.Contains("had no stake", c.Refused(LedgerError.NoVotingPower, "dave", Vote(1, VoteOption.Yes)).Message, StringComparison.Ordinal);
        Decide(c, 1);
        Assert.Contains("the voting period of proposal 1 ended at height", c.Refused(LedgerError.VotingClosed, "t1", Vote(1, VoteOption.Yes)).Message, StringComparison.Ordinal);
    }
}
