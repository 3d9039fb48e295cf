using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>
/// Whole rounds on both backends: the same signed transactions (honest, malicious and misplaced) give the same
/// outcomes, and settlement (consensus, verdicts, rewards split with delegators, slashes, emission, refund) leaves
/// the same balances, stakes, supply and rounds.
/// </summary>
public sealed class RoundDifferentialTests(AnvilChain chain) : IClassFixture<AnvilChain>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-evm-rounds-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task The_contract_picks_what_the_embedded_ledger_picks_from_the_same_seed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var evm = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["x"]), ct);
        var random = new Random(11);
        for (var trial = 0; trial < 12; trial++)
        {
            var eligible = Enumerable.Range(0, random.Next(0, 25)).Select(i => AnvilChain.Key($"m{trial}-{i}").Address).Order().ToArray();
            var count = (uint)random.Next(0, 30);
            var seed = new byte[32];
            random.NextBytes(seed);
            var purpose = trial % 2 == 0 ? "pick/trainers" : "pick/validators";
            var expected = StateMachine.Pick(eligible, count, new Hash32(seed), purpose).Order().ToArray();
            Assert.Equal(expected, await evm.PickAsync(eligible, count, new Hash32(seed), purpose, ct));
        }
    }

    [Fact]
    public async Task Two_rounds_with_a_sign_flipper_a_silent_validator_and_delegations_settle_identically_on_both_backends()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "t3", "evil"];
        string[] validators = ["v1", "v2", "lazy"];
        string[] others = ["coord", "fan", "stranger"];
        var genesis = AnvilChain.Genesis([.. trainers, .. validators, .. others], whole: 1_000, unbondingBlocks: 10_000);
        await using var embedded = await EmbeddedLedger.OpenAsync(Path.Combine(_dir, "ledger.db"), genesis, cancellationToken: ct);
        await using var evm = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, ct);
        var nonces = new Dictionary<string, ulong>();
        var outcomes = new List<string>();

        async Task<bool> Both(string who, Func<Address, ulong, Transaction> build)
        {
            var from = AnvilChain.Key(who).Address;
            var tx = build(from, nonces.GetValueOrDefault(who));
            var signed = AnvilChain.Key(who).SignTransaction(tx, AnvilChain.ChainId);
            var a = await OutcomeAsync(embedded, signed, ct);
            var b = await OutcomeAsync(evm, signed, ct);
            Assert.True(a == b, $"{tx.TypeName} by {who}: embedded {a?.ToString() ?? "accepted"}, evm {b?.ToString() ?? "accepted"}");
            if (a is null)
            {
                nonces[who] = nonces.GetValueOrDefault(who) + 1;
            }
            outcomes.Add(a?.Code.ToString() ?? "ok");
            return a is null;
        }

        foreach (var t in trainers)
        {
            await Both(t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(50) });
        }
        foreach (var v in validators)
        {
            await Both(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        }
        await Both("v1", (f, n) => new SetCommission { From = f, Nonce = n, CommissionBps = 1_000 });
        await Both("fan", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = AnvilChain.Key("v1").Address, Role = Role.Validator, Amount = Tokens.Whole(60) });
        await Both("fan", (f, n) => new DelegateStake { From = f, Nonce = n, Operator = AnvilChain.Key("evil").Address, Role = Role.Trainer, Amount = Tokens.Whole(25) });
        await Both("coord", (f, n) => new CreateTask
        {
            From = f, Nonce = n, SpecHash = new Hash32(Enumerable.Repeat((byte)7, 32).ToArray()), RewardPool = Tokens.Whole(101), Rounds = 2, MinStake = Tokens.Whole(10),
            TrainersPerRound = 10, ValidatorsPerRound = 10, RejectBelow = 500_000,
        });
        foreach (var m in trainers)
        {
            await Both(m, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var m in validators)
        {
            await Both(m, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }

        var model = new Hash32(Enumerable.Repeat((byte)1, 32).ToArray());
        for (uint round = 1; round <= 2; round++)
        {
            var r = round;
            Assert.False(await Both("stranger", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = r, ModelHash = model }));
            Assert.False(await Both("coord", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = r + 1, ModelHash = model }));
            Assert.True(await Both("coord", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = r, ModelHash = model }));
            for (var i = 0; i < trainers.Length; i++)
            {
                var samples = (ulong)(100 * (i + 1));
                var update = new Hash32(Enumerable.Repeat((byte)(10 * r + i), 32).ToArray());
                Assert.True(await Both(trainers[i], (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = r, UpdateHash = update, Samples = samples }));
            }
            Assert.False(await Both("t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = r, UpdateHash = model, Samples = 1 }));
            Assert.False(await Both("stranger", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = r, UpdateHash = model, Samples = 1 }));
            Assert.True(await Both("coord", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = r }));
            Assert.False(await Both("t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = r, UpdateHash = model, Samples = 1 }));

            // Honest validators score the sign-flipped update (the fourth) near zero; they disagree a little elsewhere.
            var scores = new Dictionary<string, ulong[]>
            {
                ["v1"] = [910_000, 905_000, 920_000, 10_000],
                ["v2"] = [900_000, 915_000, 890_000 + (r * 1_000), 0],
                ["lazy"] = [500_000, 500_000, 500_000, 500_000],
            };
            var salt = new Hash32(Enumerable.Repeat((byte)(40 + r), 32).ToArray());
            foreach (var v in validators)
            {
                var commitment = SignedTransaction.ScoreCommitment(1, r, AnvilChain.Key(v).Address, scores[v], salt);
                Assert.True(await Both(v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = r, Commitment = commitment }));
            }
            Assert.False(await Both("v1", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = scores["v1"], Salt = salt }));
            Assert.True(await Both("coord", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = r }));
            Assert.False(await Both("v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = [1, 2, 3], Salt = salt }));
            Assert.False(await Both("v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = [1, 2, 3, 4], Salt = salt }));
            Assert.True(await Both("v1", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = scores["v1"], Salt = salt }));
            Assert.True(await Both("v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = scores["v2"], Salt = salt }));
            Assert.False(await Both("v2", (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = r, Scores = scores["v2"], Salt = salt }));
            // "lazy" never reveals.
            Assert.False(await Both("coord", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = r, NewModelHash = Hash32.Zero }));
            model = new Hash32(Enumerable.Repeat((byte)(100 + r), 32).ToArray());
            var next = model;
            Assert.True(await Both("coord", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = r, NewModelHash = next }));
            Assert.False(await Both("coord", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = r, NewModelHash = next }));
        }
        Assert.False(await Both("coord", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 3, ModelHash = model }));

        foreach (var name in (string[])[.. trainers, .. validators, .. others])
        {
            var a = AnvilChain.Key(name).Address;
            Assert.True(await embedded.GetBalanceAsync(a, ct) == await evm.GetBalanceAsync(a, ct), $"balance of {name}");
            foreach (var role in new[] { Role.Trainer, Role.Validator })
            {
                var x = await embedded.GetStakeAsync(a, role, ct);
                var y = await evm.GetStakeAsync(a, role, ct);
                Assert.True((x.Self, x.Delegated) == (y.Self, y.Delegated), $"{role} stake of {name}: {x.Self}+{x.Delegated} vs {y.Self}+{y.Delegated}");
                Assert.Equal(x.Delegations, y.Delegations);
            }
        }
        Assert.Equal(await embedded.GetDelegationAsyncFor("fan", "evil", Role.Trainer, ct), await evm.GetDelegationAsync(AnvilChain.Key("fan").Address, AnvilChain.Key("evil").Address, Role.Trainer, ct));
        var sa = await embedded.GetStatusAsync(ct);
        var sb = await evm.GetStatusAsync(ct);
        Assert.Equal((sa.GenesisSupply, sa.Emitted, sa.Burned, sa.Staked), (sb.GenesisSupply, sb.Emitted, sb.Burned, sb.Staked));
        Assert.True(sb.SupplyConserved);
        Assert.True(sa.Burned > 0 && sa.Emitted > 0, "the scenario must slash and emit");
        var ta = (await embedded.GetTaskAsync(1, ct))!;
        var tb = (await evm.GetTaskAsync(1, ct))!;
        Assert.Equal(ta with { Trainers = [], Validators = [] }, tb with { Trainers = [], Validators = [] });
        Assert.True(tb.Completed);
        for (uint r = 1; r <= 2; r++)
        {
            var x = (await embedded.GetRoundAsync(1, r, ct))!;
            var y = (await evm.GetRoundAsync(1, r, ct))!;
            Assert.Equal((x.Phase, x.ModelHash, x.NewModelHash, x.Reward), (y.Phase, y.ModelHash, y.NewModelHash, y.Reward));
            Assert.Equal(x.PickedTrainers, y.PickedTrainers);
            Assert.Equal(x.PickedValidators, y.PickedValidators);
            Assert.Equal(x.Updates, y.Updates);
            Assert.Equal(x.Committed, y.Committed);
            Assert.Equal(x.Revealed, y.Revealed);
            foreach (var (validator, list) in x.Scores)
            {
                Assert.Equal(list, y.Scores[validator]);
            }
            // Verdicts and every payout and slash, in the embedded ledger's order and words.
            Assert.Equal(x.Outcomes, y.Outcomes);
            Assert.Equal(x.Movements, y.Movements);
            Assert.Contains(y.Outcomes, o => !o.Accepted);
            Assert.Contains(y.Movements, m => m.Kind == "delegator slash");
            Assert.Contains(y.Movements, m => m.Kind == "delegator reward");
        }
        Assert.Contains("NotCoordinator", outcomes);
        Assert.Contains("RevealMismatch", outcomes);
    }

    private static async Task<(LedgerError Code, string Message)?> OutcomeAsync(ILedger ledger, SignedTransaction tx, CancellationToken ct)
    {
        try
        {
            await ledger.SubmitAsync(tx, ct);
            return null;
        }
        catch (LedgerException refusal)
        {
            return (refusal.Code, refusal.Message);
        }
    }
}

internal static class EmbeddedDelegations
{
    public static async Task<UInt128> GetDelegationAsyncFor(this EmbeddedLedger ledger, string delegator, string operatorName, Role role, CancellationToken ct)
    {
        var stake = await ledger.GetStakeAsync(AnvilChain.Key(operatorName).Address, role, ct);
        return stake.Delegations.Where(d => d.Delegator == AnvilChain.Key(delegator).Address).Select(d => d.Amount).FirstOrDefault();
    }
}
