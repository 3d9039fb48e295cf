using System.Security.Cryptography;
using System.Text;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

/// <summary>Builds tasks and walks rounds through their phases for rule tests.</summary>
internal static class TestRound
{
    public static CreateTask Task(Address from, ulong nonce, ulong pool = 300, uint rounds = 3, ulong minStake = 10, uint trainers = 3, uint validators = 3) => new()
    {
        From = from,
        Nonce = nonce,
        SpecHash = Hash(1),
        RewardPool = Tokens.Whole(pool),
        Rounds = rounds,
        MinStake = Tokens.Whole(minStake),
        TrainersPerRound = trainers,
        ValidatorsPerRound = validators,
        RejectBelow = 500_000,
    };

    public static Hash32 Hash(int i) => new(SHA256.HashData(Encoding.UTF8.GetBytes($"hash-{i}")));

    public static Hash32 Salt(string who) => new(SHA256.HashData(Encoding.UTF8.GetBytes("salt-" + who)));

    /// <summary>A chain with coordinator carol, trainers t1..t3 and validators v1..v3, all staked (v1 more) and joined to task 1.</summary>
    public static TestChain Setup() => Setup(null, "dave");

    /// <summary>The same on a chain with <paramref name="parameters"/> (default: <see cref="TestChain"/>'s), with <paramref name="others"/> funded too.</summary>
    public static TestChain Setup(LedgerParams? parameters, params string[] others)
    {
        string[] names = ["carol", "t1", "t2", "t3", "v1", "v2", "v3", .. others];
        var c = parameters is null ? new TestChain(names) : new TestChain(parameters, names);
        c.Do("carol", (f, n) => Task(f, n));
        foreach (var t in new[] { "t1", "t2", "t3" })
        {
            c.Do(t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
            c.Do(t, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var (v, stake) in new[] { ("v1", 300UL), ("v2", 200UL), ("v3", 100UL) })
        {
            c.Do(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(stake) });
            c.Do(v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }
        c.NextBlock();
        return c;
    }

    public static void Open(TestChain c, uint round, Hash32 model) => c.Do("carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = round, ModelHash = model });

    public static void Submit(TestChain c, string trainer, uint round, int update) =>
        c.Do(trainer, (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = round, UpdateHash = Hash(100 + update), Samples = 600 });

    public static void Commit(TestChain c, string validator, uint round, ulong[] scores) =>
        c.Do(validator, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = round, Commitment = SignedTransaction.ScoreCommitment(1, round, f, scores, Salt(validator)) });

    public static void Reveal(TestChain c, string validator, uint round, ulong[] scores) =>
        c.Do(validator, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = round, Scores = scores, Salt = Salt(validator) });

    public static void Close(TestChain c, uint round, bool training) => c.Do("carol", (f, n) => training
        ? new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = round }
        : new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = round });

    public static void Finalize(TestChain c, uint round, Hash32 model) => c.Do("carol", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = round, NewModelHash = model });
}
