using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;
using Nethereum.Web3;
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
            ("setTasks", [from]),
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
}

[Error("NotTasks")]
internal sealed class NotTasksError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
}
