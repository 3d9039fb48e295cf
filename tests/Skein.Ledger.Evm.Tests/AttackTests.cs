using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;
using Nethereum.Web3;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>
/// What a chain invites beyond forged and replayed signatures: anyone may call a contract directly, and amounts may
/// sit at the edges of their types. The privileged calls refuse everyone but the tasks contract, the tasks contract
/// cannot be replaced, and the largest amounts are refused as the embedded ledger refuses them.
/// </summary>
public sealed class AttackTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private static SignedTransaction Sign(string who, Transaction tx) => AnvilChain.Key(who).SignTransaction(tx, AnvilChain.ChainId);

    private static Skein.Ledger.Address A(string who) => AnvilChain.Key(who).Address;

    [Fact]
    public async Task Nobody_but_the_tasks_contract_can_escrow_mint_reward_slash_or_accept_and_nobody_can_replace_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["victim", "thief"]), ct);
        // The relayer itself deployed the contracts: even it holds no privilege after the link.
        var web3 = new Web3(new Nethereum.Web3.Accounts.Account(chain.Node.DevKey, new BigInteger(AnvilChain.ChainId)), chain.Node.Rpc.ToString());
        var contract = web3.Eth.GetContract(ContractArtifact.Load("SkeinLedger").Abi, ledger.ContractAddress);
        var from = web3.TransactionManager.Account.Address;
        var attempts = new (string Function, object[] Args)[]
        {
            ("escrow", [A("victim").ToString(), (BigInteger)Tokens.Whole(1)]),
            ("mint", [(BigInteger)Tokens.Whole(1_000_000)]),
            ("reward", [A("thief").ToString(), (byte)Role.Trainer, (BigInteger)Tokens.Whole(1), 1UL, 1U]),
            ("slash", [A("victim").ToString(), (byte)Role.Trainer, 10_000U, 1UL, 1U]),
            ("accept", [A("victim").ToString(), 0UL, new byte[32], new byte[65]]),
            ("link", [from, from, from]),
            ("burnDeposit", [(BigInteger)Tokens.Whole(1)]),
            ("mintTreasury", [(BigInteger)Tokens.Whole(1_000_000)]),
        };
        foreach (var (function, args) in attempts)
        {
            var call = contract.GetFunction(function);
            var refused = await Assert.ThrowsAsync<SmartContractCustomErrorRevertException>(() => call.EstimateGasAsync(from, null, null, args));
            Assert.True(refused.IsCustomErrorFor<NotTasksError>(), $"{function}: reverted with {refused.ExceptionEncodedData}, not NotTasks");
            Assert.Equal(from, refused.DecodeError<NotTasksError>().Caller, ignoreCase: true);
        }
        Assert.Equal(Tokens.Whole(1_000), await ledger.GetBalanceAsync(A("victim"), ct));
        Assert.Equal(Tokens.Whole(2_000), (await ledger.GetStatusAsync(ct)).GenesisSupply);
        Assert.Equal(0UL, await ledger.GetNonceAsync(A("victim"), ct));
    }

    [Fact]
    public async Task Only_governance_approves_funds_or_reconfigures_tasks_and_its_tally_is_open_to_anyone_but_changes_nothing_early()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["creator", "thief"]), ct);
        var web3 = new Web3(new Nethereum.Web3.Accounts.Account(chain.Node.DevKey, new BigInteger(AnvilChain.ChainId)), chain.Node.Rpc.ToString());
        var tasks = web3.Eth.GetContract(ContractArtifact.Load("SkeinTasks").Abi, ledger.TasksAddress);
        var from = web3.TransactionManager.Account.Address;
        foreach (var (function, args) in new (string, object[])[] { ("setApproval", [1UL, false]), ("fund", [1UL, (BigInteger)Tokens.Whole(1_000)]) })
        {
            var refused = await Assert.ThrowsAsync<SmartContractCustomErrorRevertException>(() => tasks.GetFunction(function).EstimateGasAsync(from, null, null, args));
            Assert.True(refused.IsCustomErrorFor<NotGovernanceError>(), $"{function}: reverted with {refused.ExceptionEncodedData}, not NotGovernance");
        }
        // endVoting is open: with nothing due it changes nothing (no treasury, no parameters, no proposals).
        var governance = web3.Eth.GetContract(ContractArtifact.Load("SkeinGovernance").Abi, ledger.GovernanceAddress);
        var before = await ledger.GetGovernanceAsync(ct);
        await governance.GetFunction("endVoting").SendTransactionAndWaitForReceiptAsync(from, new Nethereum.Hex.HexTypes.HexBigInteger(300_000), null, null, ct);
        var after = await ledger.GetGovernanceAsync(ct);
        Assert.Equal(before.Parameters, after.Parameters);
        Assert.Equal(UInt128.Zero, after.Treasury);
        Assert.Empty(after.Proposals);
    }

    [Fact]
    public async Task Before_its_deadlines_only_the_tasks_coordinator_moves_its_rounds_phases_whoever_signs_and_whoever_relays()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["creator", "t1", "v1", "mallory"]), ct);
        var nonces = new Dictionary<string, ulong>();
        Task<TxReceipt> Send(string who, Func<Address, ulong, Transaction> build) =>
            ledger.SubmitAsync(Sign(who, build(A(who), nonces[who] = nonces.GetValueOrDefault(who, ulong.MaxValue) + 1)), ct);
        async Task NotCoordinator(string who, Func<Address, ulong, Transaction> build)
        {
            var nonce = await ledger.GetNonceAsync(A(who), ct);
            var refusal = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(Sign(who, build(A(who), nonce)), ct));
            Assert.Equal(LedgerError.NotCoordinator, refusal.Code);
            Assert.Contains($"only task 1's coordinator {A("creator")} may do this, not {A(who)}", refusal.Message, StringComparison.Ordinal);
            Assert.Equal(nonce, await ledger.GetNonceAsync(A(who), ct));
        }
        async Task NotYetDue(string who, Func<Address, ulong, Transaction> build)
        {
            var nonce = await ledger.GetNonceAsync(A(who), ct);
            var refusal = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(Sign(who, build(A(who), nonce)), ct));
            Assert.Equal(LedgerError.NotYetDue, refusal.Code);
            Assert.Contains("only task 1's coordinator may close this phase", refusal.Message, StringComparison.Ordinal);
            Assert.Equal(nonce, await ledger.GetNonceAsync(A(who), ct));
        }

        await Send("creator", (f, n) => new CreateTask
        {
            From = f, Nonce = n, SpecHash = new Hash32(Enumerable.Repeat((byte)7, 32).ToArray()), RewardPool = Tokens.Whole(10), Rounds = 2, MinStake = Tokens.Whole(10),
            TrainersPerRound = 1, ValidatorsPerRound = 1, RejectBelow = 0,
        });
        await Send("t1", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(20) });
        await Send("t1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        await Send("v1", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(20) });
        await Send("v1", (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        var model = new Hash32(Enumerable.Repeat((byte)1, 32).ToArray());

        // An outsider, and a member of the task, each sign a phase move of their own; the relayer (the same for all) changes nothing.
        await NotCoordinator("mallory", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = model });
        await Send("creator", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = model });
        await NotYetDue("t1", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await Send("t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = new Hash32(Enumerable.Repeat((byte)2, 32).ToArray()), Samples = 10 });
        await Send("creator", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await NotYetDue("v1", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await Send("creator", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await NotYetDue("mallory", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = 1, NewModelHash = model });
        Assert.Equal(RoundPhase.Revealing, (await ledger.GetRoundAsync(1, 1, ct))!.Phase);
    }

    [Fact]
    public async Task Tokens_sent_to_a_contract_that_rejects_every_call_still_arrive_so_moving_tokens_runs_no_code_that_could_reenter()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["alice"]), ct);
        var web3 = new Web3(new Nethereum.Web3.Accounts.Account(chain.Node.DevKey, new BigInteger(AnvilChain.ChainId)), chain.Node.Rpc.ToString());
        // Init code that deploys the one-byte runtime 0xfe (INVALID): any call into it, a token hook included, reverts.
        var deployed = await web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(new Nethereum.RPC.Eth.DTOs.TransactionInput
        {
            From = web3.TransactionManager.Account.Address, Data = "0x60fe60005360016000f3", Gas = new Nethereum.Hex.HexTypes.HexBigInteger(100_000),
        }, ct);
        var trap = deployed.ContractAddress;
        Assert.Equal("0xfe", await web3.Eth.GetCode.SendRequestAsync(trap));
        await Assert.ThrowsAnyAsync<Exception>(() => web3.Eth.Transactions.Call.SendRequestAsync(new Nethereum.RPC.Eth.DTOs.CallInput { To = trap, Data = "0x" }));

        var to = Address.Parse(trap);
        await ledger.SubmitAsync(Sign("alice", new Transfer { From = A("alice"), Nonce = 0, To = to, Amount = Tokens.Whole(5) }), ct);
        Assert.Equal(Tokens.Whole(5), await ledger.GetBalanceAsync(to, ct));
        // Unstaking releases to a balance the same way: a bookkeeping entry, never a call to the account.
        await ledger.SubmitAsync(Sign("alice", new Stake { From = A("alice"), Nonce = 1, Role = Role.Trainer, Amount = Tokens.Whole(10) }), ct);
        await ledger.SubmitAsync(Sign("alice", new Unstake { From = A("alice"), Nonce = 2, Role = Role.Trainer, Amount = Tokens.Whole(10) }), ct);
        Assert.Equal(Tokens.Whole(995), await ledger.GetBalanceAsync(A("alice"), ct) + (await ledger.GetAccountAsync(A("alice"), ct)).Unbonding.Aggregate(UInt128.Zero, (a, u) => a + u.Amount));
        Assert.True((await ledger.GetStatusAsync(ct)).SupplyConserved);
    }

    [Fact]
    public async Task The_largest_amounts_are_refused_with_the_embedded_ledgers_reasons_and_change_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["max"]), ct);
        var huge = UInt128.MaxValue;
        async Task Refused(Transaction tx, LedgerError code, string words)
        {
            var refusal = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(Sign("max", tx), ct));
            Assert.Equal(code, refusal.Code);
            Assert.Contains(words, refusal.Message, StringComparison.Ordinal);
        }

        await Refused(new Transfer { From = A("max"), Nonce = 0, To = A("max"), Amount = huge }, LedgerError.InsufficientBalance, "transfer needs 340282366920938463463.374607431768211455");
        await Refused(new Stake { From = A("max"), Nonce = 0, Role = Role.Validator, Amount = huge }, LedgerError.InsufficientBalance, "stake needs");
        await Refused(new CreateTask
        {
            From = A("max"), Nonce = 0, SpecHash = new Hash32(Enumerable.Repeat((byte)3, 32).ToArray()), RewardPool = huge, Rounds = 100_000, MinStake = huge,
            TrainersPerRound = 10_000, ValidatorsPerRound = 1_000, RejectBelow = 1_000_000,
        }, LedgerError.InsufficientBalance, "the reward pool escrow needs");
        await Refused(new CreateTask
        {
            From = A("max"), Nonce = 0, SpecHash = new Hash32(Enumerable.Repeat((byte)3, 32).ToArray()), RewardPool = 1, Rounds = uint.MaxValue, MinStake = 0,
            TrainersPerRound = 1, ValidatorsPerRound = 1, RejectBelow = 0,
        }, LedgerError.InvalidParameter, $"rounds: must be in [1, 100000], got {uint.MaxValue}");

        // At the largest values the rules allow, a task is created, and a stake below its minimum cannot join.
        await ledger.SubmitAsync(Sign("max", new CreateTask
        {
            From = A("max"), Nonce = 0, SpecHash = new Hash32(Enumerable.Repeat((byte)3, 32).ToArray()), RewardPool = 1, Rounds = 100_000, MinStake = huge,
            TrainersPerRound = 10_000, ValidatorsPerRound = 1_000, RejectBelow = 1_000_000,
        }), ct);
        await Refused(new JoinTask { From = A("max"), Nonce = 1, TaskId = 1, Role = Role.Trainer }, LedgerError.InsufficientStake, "requires a Trainer stake of");
        Assert.Equal(Tokens.Whole(1_000) - 1, await ledger.GetBalanceAsync(A("max"), ct));
        Assert.Equal(1UL, await ledger.GetNonceAsync(A("max"), ct));
    }

    [Fact]
    public async Task A_relayer_cannot_alter_a_signed_bid_lease_or_deployment_and_the_open_keeper_calls_take_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ledger = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["tenant", "prov", "mallory"]), ct);
        var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
        var uact = rules.BaseUnitsPerDenomUnit;
        foreach (var who in new[] { "prov", "mallory" })
        {
            await ledger.SubmitAsync(Sign(who, new RegisterProvider { From = A(who), Nonce = 0, HostUri = "http://127.0.0.1:9/", Attributes = "{}", Capacity = Skein.Ledger.Tests.Market.MarketChain.CapacityJson }), ct);
        }
        var deploy = Sign("tenant", new CreateDeployment
        {
            From = A("tenant"), Nonce = 0, Dseq = 1, ManifestHash = Skein.Ledger.Tests.Market.MarketChain.Sample(1), Deposit = Tokens.Whole(1),
            Groups = Skein.Ledger.Market.GroupSpec.ToCanonicalJson([Skein.Ledger.Tests.Market.MarketChain.Group(price: "1000")]),
        });
        // A relayer that swaps the deposit or the groups keeps a signature over other fields.
        var bigger = await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(deploy with { Tx = ((CreateDeployment)deploy.Tx) with { Deposit = Tokens.Whole(900) } }, ct));
        Assert.Equal(LedgerError.BadSignature, bigger.Code);
        var pricier = Skein.Ledger.Market.GroupSpec.ToCanonicalJson([Skein.Ledger.Tests.Market.MarketChain.Group(price: "999999")]);
        Assert.Equal(LedgerError.BadSignature, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(deploy with { Tx = ((CreateDeployment)deploy.Tx) with { Groups = pricier } }, ct))).Code);
        await ledger.SubmitAsync(deploy, ct);

        var bid = Sign("prov", new CreateBid { From = A("prov"), Nonce = 1, Owner = A("tenant"), Dseq = 1, Gseq = 1, Oseq = 1, Price = 900 * uact });
        Assert.Equal(LedgerError.BadSignature, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(bid with { Tx = ((CreateBid)bid.Tx) with { Price = 1_000 * uact } }, ct))).Code);
        await ledger.SubmitAsync(bid, ct);
        await ledger.SubmitAsync(Sign("mallory", new CreateBid { From = A("mallory"), Nonce = 1, Owner = A("tenant"), Dseq = 1, Gseq = 1, Oseq = 1, Price = 1_000 * uact }), ct);
        // The tenant picked prov; a relayer paid by mallory cannot point the lease at her bid.
        var lease = Sign("tenant", new CreateLease { From = A("tenant"), Nonce = 1, Owner = A("tenant"), Dseq = 1, Gseq = 1, Oseq = 1, Provider = A("prov") });
        Assert.Equal(LedgerError.BadSignature, (await Assert.ThrowsAsync<LedgerException>(() => ledger.SubmitAsync(lease with { Tx = ((CreateLease)lease.Tx) with { Provider = A("mallory") } }, ct))).Code);
        await ledger.SubmitAsync(lease, ct);

        // The keeper calls are open to anyone, and on a funded deployment they change nothing.
        var before = (await ledger.GetBalanceAsync(A("tenant"), ct), await ledger.GetBalanceAsync(A("prov"), ct), await ledger.GetBalanceAsync(A("mallory"), ct));
        var web3 = new Web3(new Nethereum.Web3.Accounts.Account(chain.Node.DevKey, new BigInteger(AnvilChain.ChainId)), chain.Node.Rpc.ToString());
        var market = web3.Eth.GetContract(ContractArtifact.Load("SkeinMarket").Abi, ledger.MarketAddress);
        var from = web3.TransactionManager.Account.Address;
        await market.GetFunction("settle").SendTransactionAndWaitForReceiptAsync(from, new Nethereum.Hex.HexTypes.HexBigInteger(300_000), null, null, ct, A("tenant").ToString(), 1UL);
        await market.GetFunction("expireBids").SendTransactionAndWaitForReceiptAsync(from, new Nethereum.Hex.HexTypes.HexBigInteger(300_000), null, null, ct, A("tenant").ToString(), 1UL, 1U, 1U);
        Assert.Equal(before, (await ledger.GetBalanceAsync(A("tenant"), ct), await ledger.GetBalanceAsync(A("prov"), ct), await ledger.GetBalanceAsync(A("mallory"), ct)));
        // Nobody but SkeinMarket moves a deposit: escrow and accept refuse the relayer, who deployed everything.
        var core = web3.Eth.GetContract(ContractArtifact.Load("SkeinLedger").Abi, ledger.ContractAddress);
        var refused = await Assert.ThrowsAsync<SmartContractCustomErrorRevertException>(() => core.GetFunction("escrow").EstimateGasAsync(from, null, null, A("tenant").ToString(), (BigInteger)Tokens.Whole(1)));
        Assert.True(refused.IsCustomErrorFor<NotTasksError>());
    }
}

[Error("NotTasks")]
internal sealed class NotTasksError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
}

[Error("NotGovernance")]
internal sealed class NotGovernanceError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
}
