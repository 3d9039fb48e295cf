using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Conformance;

/// <summary>
/// What every <see cref="ILedger"/> backend must do, written against the interface only: the embedded ledger
/// runs it here, and an EVM backend must pass the same tests.
/// </summary>
public abstract partial class LedgerConformanceTests
{
    /// <summary>A fresh ledger with <paramref name="genesis"/>.</summary>
    protected abstract Task<ILedger> CreateAsync(Genesis genesis);

    /// <summary>Lets <paramref name="by"/> of ledger time pass and seals a block (an EVM backend: increase time, mine).</summary>
    protected abstract Task AdvanceAsync(ILedger ledger, TimeSpan by);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<TxReceipt> Send(ILedger ledger, TestChain c, string who, Func<Address, ulong, Transaction> build)
    {
        var nonce = await ledger.GetNonceAsync(c[who], Ct);
        var signed = c.KeyOf(who).SignTransaction(build(c[who], nonce), ledger.ChainId) with { ChainId = ledger.ChainId };
        return await ledger.SubmitAsync(signed, Ct);
    }

    private static async Task<LedgerException> Refused(ILedger ledger, TestChain c, string who, Func<Address, ulong, Transaction> build) =>
        await Assert.ThrowsAsync<LedgerException>(() => Send(ledger, c, who, build));

    [Fact]
    public async Task Transfers_change_balances_and_nonces_and_land_in_blocks()
    {
        var c = new TestChain("alice", "bob");
        await using var ledger = await CreateAsync(c.Genesis);
        var receipt = await Send(ledger, c, "alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(7) });
        Assert.Equal(Tokens.Whole(993), await ledger.GetBalanceAsync(c["alice"], Ct));
        Assert.Equal(Tokens.Whole(1_007), await ledger.GetBalanceAsync(c["bob"], Ct));
        Assert.Equal(1UL, await ledger.GetNonceAsync(c["alice"], Ct));
        var block = await ledger.GetBlockAsync(receipt.BlockHeight, Ct);
        Assert.Contains(receipt.Id, block!.TransactionIds);
        var found = await ledger.GetTransactionAsync(receipt.Id, Ct);
        Assert.Equal(c["alice"], found!.Value.Transaction.Tx.From);
        var status = await ledger.GetStatusAsync(Ct);
        Assert.Equal(receipt.BlockHeight, status.Height);
        Assert.Equal(TestChain.ChainId, status.ChainId);
    }

    [Fact]
    public async Task Refusals_carry_their_code_and_change_nothing()
    {
        var c = new TestChain("alice", "bob", "mallory");
        await using var ledger = await CreateAsync(c.Genesis);
        var before = (await ledger.GetStatusAsync(Ct)).StateRoot;
        Assert.Equal(LedgerError.InsufficientBalance, (await Refused(ledger, c, "alice", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = Tokens.Whole(2_000) })).Code);
        var theft = new Transfer { From = c["alice"], Nonce = 0, To = c["mallory"], Amount = 1 };
        var forged = new SignedTransaction(theft, c.KeyOf("mallory").Sign(theft.Digest(ledger.ChainId)));
        Assert.Equal(LedgerError.BadSignature, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(forged, Ct))).Code);
        var otherChain = c.KeyOf("alice").SignTransaction(new Transfer { From = c["alice"], Nonce = 0, To = c["bob"], Amount = 1 }, ledger.ChainId + 5) with { ChainId = ledger.ChainId + 5 };
        Assert.Equal(LedgerError.WrongChain, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(otherChain, Ct))).Code);
        Assert.Equal(before, (await ledger.GetStatusAsync(Ct)).StateRoot);

        var once = c.KeyOf("alice").SignTransaction(new Transfer { From = c["alice"], Nonce = 0, To = c["bob"], Amount = 1 }, ledger.ChainId);
        await ledger.SubmitAsync(once, Ct);
        Assert.Equal(LedgerError.BadNonce, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(once, Ct))).Code);
        Assert.Equal(LedgerError.UnknownTask, (await Refused(ledger, c, "bob", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 42, Role = Role.Trainer })).Code);
    }

    [Fact]
    public async Task Stakes_delegations_and_tasks_are_visible()
    {
        var c = new TestChain("carol", "tom", "dave");
        await using var ledger = await CreateAsync(c.Genesis);
        await Send(ledger, c, "tom", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(40) });
        await Send(ledger, c, "tom", (f, n) => new SetCommission { From = f, Nonce = n, CommissionBps = 1_000 });
        await Send(ledger, c, "dave", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c["tom"], Role = Role.Trainer, Amount = Tokens.Whole(60) });
        var stake = await ledger.GetStakeAsync(c["tom"], Role.Trainer, Ct);
        Assert.Equal(Tokens.Whole(40), stake.Self);
        Assert.Equal(Tokens.Whole(60), stake.Delegated);
        Assert.Equal(1_000u, stake.CommissionBps);
        Assert.Equal([(c["dave"], Tokens.Whole(60))], stake.Delegations);

        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 90, rounds: 3, minStake: 50));
        await Send(ledger, c, "tom", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        var task = await ledger.GetTaskAsync(1, Ct);
        Assert.Equal(Tokens.Whole(90), task!.Escrow);
        Assert.Equal([c["tom"]], task.Trainers);
        Assert.Single(await ledger.ListTasksAsync(Ct));
        Assert.Null(await ledger.GetTaskAsync(2, Ct));
    }

    [Fact]
    public async Task A_round_settles_with_verdicts_rewards_slashes_and_conserved_supply()
    {
        var c = new TestChain("carol", "t1", "t2", "v1", "v2");
        await using var ledger = await CreateAsync(c.Genesis);
        await Send(ledger, c, "carol", (f, n) => TestRound.Task(f, n, pool: 100, rounds: 1, minStake: 10, trainers: 2, validators: 2));
        foreach (var t in new[] { "t1", "t2" })
        {
            await Send(ledger, c, t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
            await Send(ledger, c, t, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(ledger, c, v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
            await Send(ledger, c, v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }
        await Send(ledger, c, "carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = TestRound.Hash(0) });
        await Send(ledger, c, "t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(1), Samples = 100 });
        await Send(ledger, c, "t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = TestRound.Hash(2), Samples = 100 });
        await Send(ledger, c, "carol", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        ulong[] scores = [950_000, 10_000];
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(ledger, c, v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = 1, Commitment = SignedTransaction.ScoreCommitment(1, 1, f, scores, TestRound.Salt(v)) });
        }
        await Send(ledger, c, "carol", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = 1 });
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(ledger, c, v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = scores, Salt = TestRound.Salt(v) });
        }
        await Send(ledger, c, "carol", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = 1, NewModelHash = TestRound.Hash(3) });

        var round = await ledger.GetRoundAsync(1, 1, Ct);
        Assert.Equal(RoundPhase.Settled, round!.Phase);
        Assert.Equal([true, false], round.Outcomes.Select(o => o.Accepted));
        Assert.True(round.Outcomes[0].Reward > 0);
        Assert.Contains(round.Movements, m => m.Account == c["t2"] && m.Kind == "trainer slash");
        Assert.True((await ledger.GetStakeAsync(c["t2"], Role.Trainer, Ct)).Self < Tokens.Whole(100));
        Assert.True(await ledger.GetBalanceAsync(c["v1"], Ct) > Tokens.Whole(900));
        Assert.True((await ledger.GetTaskAsync(1, Ct))!.Completed);

        var status = await ledger.GetStatusAsync(Ct);
        UInt128 held = 0;
        foreach (var who in new[] { "carol", "t1", "t2", "v1", "v2" })
        {
            held += await ledger.GetBalanceAsync(c[who], Ct);
            held += (await ledger.GetStakeAsync(c[who], Role.Trainer, Ct)).Self + (await ledger.GetStakeAsync(c[who], Role.Validator, Ct)).Self;
        }
        Assert.Equal(status.GenesisSupply + status.Emitted - status.Burned, held);
    }
    [Fact]
    public async Task A_market_lease_is_paid_per_block_of_ledger_time_and_closing_refunds_the_rest()
    {
        var c = new TestChain("tenant", "provider");
        await using var ledger = await CreateAsync(c.Genesis);
        var rules = (await ledger.GetMarketStatusAsync(Ct)).Params;
        var uact = rules.BaseUnitsPerDenomUnit;
        await Send(ledger, c, "provider", (f, n) => new RegisterProvider
        {
            From = f, Nonce = n, HostUri = "http://127.0.0.1:9/", Attributes = """{"region":"eu"}""", Capacity = Market.MarketChain.CapacityJson,
        });
        var group = Market.MarketChain.Group(price: "1000", attributes: new Dictionary<string, string> { ["region"] = "eu" });
        var created = await Send(ledger, c, "tenant", (f, n) => new CreateDeployment
        {
            From = f, Nonce = n, Dseq = 11, ManifestHash = Market.MarketChain.Sample(11), Groups = GroupSpec.ToCanonicalJson([group]), Deposit = Tokens.Whole(1),
        });
        // A market transaction is found by its digest like any other, with every signed field.
        var found = (await ledger.GetTransactionAsync(created.Id, Ct))!.Value.Transaction.Tx;
        Assert.Equal((11UL, GroupSpec.ToCanonicalJson([group]), Tokens.Whole(1)), (((CreateDeployment)found).Dseq, ((CreateDeployment)found).Groups, ((CreateDeployment)found).Deposit));
        var open = Assert.Single(await ledger.ListOpenOrdersAsync(Ct));
        Assert.Equal(new OrderId(c["tenant"], 11, 1, 1), open.Id);
        await Send(ledger, c, "provider", (f, n) => new CreateBid { From = f, Nonce = n, Owner = c["tenant"], Dseq = 11, Gseq = 1, Oseq = 1, Price = 800 * uact });
        await Send(ledger, c, "tenant", (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = 11, Gseq = 1, Oseq = 1, Provider = c["provider"] });
        var started = (await ledger.GetMarketStatusAsync(Ct)).MarketHeight;
        Assert.Empty(await ledger.ListOpenOrdersAsync(Ct));

        await AdvanceAsync(ledger, TimeSpan.FromMilliseconds(rules.BlockIntervalMs * 5));
        var now = (await ledger.GetMarketStatusAsync(Ct)).MarketHeight;
        Assert.Equal(started + 5, now);
        var lease = Assert.Single(await ledger.ListLeasesAsync(new LeaseQuery(Provider: c["provider"], ActiveOnly: true), Ct));
        Assert.Equal(800 * uact * 5, lease.Paid);
        var deployment = (await ledger.GetDeploymentAsync(new DeploymentId(c["tenant"], 11), Ct))!;
        Assert.Equal(Tokens.Whole(1) - (800 * uact * 5), deployment.Escrow.Balance);
        Assert.Equal(800 * uact, deployment.Escrow.RatePerBlock);

        var providerBefore = await ledger.GetBalanceAsync(c["provider"], Ct);
        await Send(ledger, c, "provider", (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = c["tenant"], Dseq = 11, Gseq = 1, Oseq = 1 });
        Assert.Equal(providerBefore + (800 * uact * 5), await ledger.GetBalanceAsync(c["provider"], Ct));
        await Send(ledger, c, "tenant", (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = 11 });
        Assert.Equal(Tokens.Whole(1_000) - (800 * uact * 5), await ledger.GetBalanceAsync(c["tenant"], Ct));
        var provider = (await ledger.GetProviderAsync(c["provider"], Ct))!;
        Assert.Equal("eu", provider.Attributes["region"]);
        Assert.Single(await ledger.ListProvidersAsync(Ct));
        Assert.Empty(await ledger.ListDeploymentsAsync(new DeploymentQuery(ActiveOnly: true), Ct));
        var refused = await Refused(ledger, c, "provider", (f, n) => new CreateBid { From = f, Nonce = n, Owner = c["tenant"], Dseq = 11, Gseq = 1, Oseq = 1, Price = 1 });
        Assert.Equal(LedgerError.DeploymentClosed, refused.Code);
    }
}
