using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>
/// The same random sequences of signed transactions, valid and not, on both backends: every transaction is accepted
/// by both or refused by both with the same code and words, and the balances, nonces, stakes and delegations agree.
/// </summary>
public sealed class DifferentialTests(AnvilChain chain) : IClassFixture<AnvilChain>, IDisposable
{
    private static readonly string[] Names = ["ana", "ben", "cai", "dee"];
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-evm-diff-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_sequences_give_the_same_outcomes_and_state_on_the_embedded_ledger_and_the_contract(int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        // A long unbonding period, so that release timing (blocks differ between the backends) plays no part.
        var genesis = AnvilChain.Genesis(Names, whole: 100, unbondingBlocks: 10_000);
        await using var embedded = await EmbeddedLedger.OpenAsync(Path.Combine(_dir, $"ledger-{seed}.db"), genesis, cancellationToken: ct);
        await using var evm = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, ct);
        var random = new Random(seed);
        var accepted = 0;
        var refused = new Dictionary<LedgerError, int>();
        // A prelude that gives the random steps stakes and a task to work with.
        SignedTransaction[] prelude =
        [
            AnvilChain.Key("ana").SignTransaction(new Stake { From = AnvilChain.Key("ana").Address, Nonce = 0, Role = Role.Trainer, Amount = Tokens.Whole(10) }, AnvilChain.ChainId),
            AnvilChain.Key("ben").SignTransaction(new Stake { From = AnvilChain.Key("ben").Address, Nonce = 0, Role = Role.Validator, Amount = Tokens.Whole(10) }, AnvilChain.ChainId),
            AnvilChain.Key("cai").SignTransaction(new CreateTask
            {
                From = AnvilChain.Key("cai").Address, Nonce = 0, SpecHash = new Hash32(RandomBytes(random, 32)), RewardPool = Tokens.Whole(20), Rounds = 5,
                MinStake = Tokens.Whole(5), TrainersPerRound = 2, ValidatorsPerRound = 1, RejectBelow = 500_000,
            }, AnvilChain.ChainId),
        ];
        foreach (var tx in prelude)
        {
            await embedded.SubmitAsync(tx, ct);
            await evm.SubmitAsync(tx, ct);
        }
        for (var step = 0; step < 60; step++)
        {
            var who = Names[random.Next(Names.Length)];
            var from = AnvilChain.Key(who).Address;
            var other = AnvilChain.Key(Names[random.Next(Names.Length)]).Address;
            var nonce = await embedded.GetNonceAsync(from, ct);
            // One in eight replays an old nonce or skips ahead.
            if (random.Next(8) == 0)
            {
                nonce = nonce > 0 && random.Next(2) == 0 ? nonce - 1 : nonce + 1;
            }
            var role = random.Next(2) == 0 ? Role.Trainer : Role.Validator;
            // Amounts from zero to more than anyone holds, mostly affordable.
            UInt128 amount = random.Next(10) switch { 0 => 0, 1 => Tokens.Whole(500), _ => Tokens.Whole((ulong)random.Next(1, 40)) + (ulong)random.Next(1_000) };
            Transaction tx = random.Next(8) switch
            {
                6 => new CreateTask
                {
                    From = from, Nonce = nonce, SpecHash = random.Next(6) == 0 ? Hash32.Zero : new Hash32(RandomBytes(random, 32)), RewardPool = amount,
                    Rounds = random.Next(6) switch { 0 => 0, 1 => 200_000, _ => (uint)random.Next(1, 50) }, MinStake = Tokens.Whole((ulong)random.Next(0, 4)),
                    TrainersPerRound = random.Next(8) == 0 ? 0 : 2u, ValidatorsPerRound = random.Next(8) == 0 ? 2_000u : 1u,
                    RejectBelow = random.Next(8) == 0 ? 2_000_000u : 500_000u,
                },
                7 => new JoinTask { From = from, Nonce = nonce, TaskId = random.Next(4) == 0 ? (ulong)random.Next(0, 4) : 1, Role = role },
                0 => new Transfer { From = from, Nonce = nonce, To = other, Amount = amount },
                1 => new Stake { From = from, Nonce = nonce, Role = role, Amount = amount },
                2 => new Unstake { From = from, Nonce = nonce, Role = role, Amount = amount },
                3 => new DelegateStake { From = from, Nonce = nonce, Operator = other, Role = role, Amount = amount },
                4 => new UndelegateStake { From = from, Nonce = nonce, Operator = other, Role = role, Amount = amount },
                _ => new SetCommission { From = from, Nonce = nonce, CommissionBps = (uint)random.Next(0, 12_000) },
            };
            var signed = AnvilChain.Key(who).SignTransaction(tx, AnvilChain.ChainId);
            var a = await AnvilChain.OutcomeAsync(embedded, signed, ct);
            var b = await AnvilChain.OutcomeAsync(evm, signed, ct);
            Assert.True(a == b, $"step {step}, {tx}: embedded {a?.ToString() ?? "accepted"}, evm {b?.ToString() ?? "accepted"}");
            if (a is null)
            {
                accepted++;
            }
            else
            {
                refused[a.Value.Code] = refused.GetValueOrDefault(a.Value.Code) + 1;
            }
        }

        foreach (var name in Names)
        {
            var address = AnvilChain.Key(name).Address;
            Assert.Equal(await embedded.GetBalanceAsync(address, ct), await evm.GetBalanceAsync(address, ct));
            Assert.Equal(await embedded.GetNonceAsync(address, ct), await evm.GetNonceAsync(address, ct));
            var pendingA = (await embedded.GetAccountAsync(address, ct)).Unbonding.Aggregate(UInt128.Zero, (s, u) => s + u.Amount);
            var pendingB = (await evm.GetAccountAsync(address, ct)).Unbonding.Aggregate(UInt128.Zero, (s, u) => s + u.Amount);
            Assert.Equal(pendingA, pendingB);
            foreach (var role in new[] { Role.Trainer, Role.Validator })
            {
                var x = await embedded.GetStakeAsync(address, role, ct);
                var y = await evm.GetStakeAsync(address, role, ct);
                Assert.Equal((x.Self, x.Delegated, x.CommissionBps), (y.Self, y.Delegated, y.CommissionBps));
                foreach (var (delegator, held) in x.Delegations)
                {
                    Assert.Equal(held, await evm.GetDelegationAsync(delegator, address, role, ct));
                }
            }
        }
        var tasksA = await embedded.ListTasksAsync(ct);
        var tasksB = await evm.ListTasksAsync(ct);
        Assert.Equal(tasksA.Count, tasksB.Count);
        // These seeds create tasks and join them (fixed seeds: the sequences are the same on every run).
        Assert.NotEmpty(tasksA);
        Assert.Contains(tasksA, t => t.Trainers.Count + t.Validators.Count > 0);
        foreach (var (x, y) in tasksA.Zip(tasksB))
        {
            Assert.Equal(x with { Trainers = [], Validators = [] }, y with { Trainers = [], Validators = [] });
            Assert.Equal(x.Trainers, y.Trainers);
            Assert.Equal(x.Validators, y.Validators);
        }
        var sa = await embedded.GetStatusAsync(ct);
        var sb = await evm.GetStatusAsync(ct);
        Assert.Equal((sa.GenesisSupply, sa.Staked), (sb.GenesisSupply, sb.Staked));
        Assert.True(sb.SupplyConserved);
        // The sequence must exercise both sides of the rules to mean anything.
        Assert.True(accepted >= 10, $"only {accepted} of 60 accepted");
        Assert.True(refused.Count >= 3, $"refusals of too few kinds: {string.Join(", ", refused.Keys)}");
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
