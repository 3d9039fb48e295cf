using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Conformance;

/// <summary>The liveness rules as every backend must keep them: deadlines, closing by anyone staked, cancelling, handover, leaving.</summary>
public abstract partial class LedgerConformanceTests
{
    /// <summary>False for a backend that refuses the liveness transactions by name (its cases are then skipped, saying so).</summary>
    protected virtual bool HasLivenessRules => true;

    private static TestChain LivenessChain() =>
        new(LedgerParams.Default with { UnbondingBlocks = 3, Liveness = new LivenessParams(4, 4, 4, 30) }, "carol", "t1", "v1", "dave", "erin");

    private static async Task JoinAsync(ILedger ledger, TestChain c)
    {
        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 90, rounds: 3, minStake: 10, trainers: 1, validators: 1));
        await Send(ledger, c, "t1", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        await Send(ledger, c, "t1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        await Send(ledger, c, "v1", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        await Send(ledger, c, "v1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
    }

    private async Task PastDeadlineAsync(ILedger ledger, ulong deadline)
    {
        var interval = (await ledger.GetMarketStatusAsync(Ct)).Params.BlockIntervalMs;
        for (var i = 0; i < 100 && (await ledger.GetMarketStatusAsync(Ct)).MarketHeight < deadline; i++)
        {
            await AdvanceAsync(ledger, TimeSpan.FromMilliseconds(interval));
        }
    }

    [Fact]
    public async Task After_a_deadline_a_staked_member_closes_the_phase_and_after_abandonment_anyone_cancels()
    {
        if (!HasLivenessRules)
        {
            Assert.Skip("this backend does not have the liveness rules yet");
        }
        var c = LivenessChain();
        await using var ledger = await CreateAsync(c.Genesis);
        await JoinAsync(ledger, c);
        await Send(ledger, c, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        await Send(ledger, c, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(1), Samples = 100 });
        var round = (await ledger.GetRoundAsync(1, 1, Ct))!;
        Assert.True(round.Deadline > 0);
        Assert.Equal(LedgerError.NotYetDue, (await Refused(ledger, c, "t1", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 })).Code);
        Assert.Equal(LedgerError.StakeBonded, (await Refused(ledger, c, "v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) })).Code);

        await PastDeadlineAsync(ledger, round.Deadline);
        Assert.Equal(LedgerError.NotMember, (await Refused(ledger, c, "dave", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 })).Code);
        await Send(ledger, c, "v1", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        round = (await ledger.GetRoundAsync(1, 1, Ct))!;
        Assert.Equal(RoundPhase.Committing, round.Phase);

        var task = (await ledger.GetTaskAsync(1, Ct))!;
        var carol = await ledger.GetBalanceAsync(c["carol"], Ct);
        Assert.Equal(LedgerError.NotYetDue, (await Refused(ledger, c, "erin", (f, n) => new CancelTask { From = f, Nonce = n, TaskId = 1 })).Code);
        await PastDeadlineAsync(ledger, task.AbandonHeight);
        await Send(ledger, c, "erin", (f, n) => new CancelTask { From = f, Nonce = n, TaskId = 1 });
        task = (await ledger.GetTaskAsync(1, Ct))!;
        Assert.True(task.Cancelled);
        Assert.False(task.Live);
        Assert.Equal(Tokens.Whole(90), task.Refunded);
        Assert.Equal(carol + Tokens.Whole(90), await ledger.GetBalanceAsync(c["carol"], Ct));
        Assert.Equal(LedgerError.TaskCancelled, (await Refused(ledger, c, "dave", (f, n) => new CancelTask { From = f, Nonce = n, TaskId = 1 })).Code);
        await Send(ledger, c, "v1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        await Send(ledger, c, "t1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        Assert.True((await ledger.GetStatusAsync(Ct)).SupplyConserved);
    }

    [Fact]
    public async Task The_creator_hands_a_task_over_and_a_member_leaves_between_rounds()
    {
        if (!HasLivenessRules)
        {
            Assert.Skip("this backend does not have the liveness rules yet");
        }
        var c = LivenessChain();
        await using var ledger = await CreateAsync(c.Genesis);
        await JoinAsync(ledger, c);
        Assert.Equal(LedgerError.NotOwner, (await Refused(ledger, c, "dave", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = c["dave"] })).Code);
        await Send(ledger, c, "carol", (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 1, Coordinator = c["dave"] });
        Assert.Equal(c["dave"], (await ledger.GetTaskAsync(1, Ct))!.Coordinator);
        Assert.Equal(LedgerError.NotCoordinator, (await Refused(ledger, c, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) })).Code);
        await Send(ledger, c, "dave", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        await Send(ledger, c, "dave", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await Send(ledger, c, "dave", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await Send(ledger, c, "dave", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = 1, NewModelHash = TestRound.Hash(0) });

        await Send(ledger, c, "t1", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        Assert.DoesNotContain(c["t1"], (await ledger.GetTaskAsync(1, Ct))!.Trainers);
        await Send(ledger, c, "t1", (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        Assert.Equal(LedgerError.NotMember, (await Refused(ledger, c, "t1", (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer })).Code);
    }
}
