using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skein.Cli;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Cli.Tests;

/// <summary>`skein model list` names the models a ledger released, read from the chain `skein gov` uses or one named with --ledger.</summary>
public sealed class ModelReleaseCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-model-release-cli-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("model-release-" + name)));

    private static Hash32 H(string text) => new(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run([.. args, "--data-dir", _dir]);

    /// <summary>A base and one merged model in the registry of the test's data folder; returns their hashes.</summary>
    private (string Base, string Merged) Registry()
    {
        using var registry = new ModelRegistry(ModelRegistry.DefaultDirectory(_dir));
        var tiny = new ModelRegistration("transformer-tiny", TransformerConfig.Tiny, ModelKind.Base) { Description = "seeded init" };
        var root = registry.Put(TransformerConfig.Tiny.Layout().ToSafeTensors(TransformerConfig.Tiny.InitialParameters(1)), tiny).Entry!.Hash;
        var merged = registry.Put(TransformerConfig.Tiny.Layout().ToSafeTensors(TransformerConfig.Tiny.InitialParameters(2)),
            tiny with { Kind = ModelKind.Merged, Parent = root, TaskId = 1, Round = 1, Contributors = ["t1", "t2"] }).Entry!.Hash;
        return (root, merged);
    }

    /// <summary>
    /// Writes an embedded chain at <paramref name="path"/> on which task 1's only round settles with <paramref name="model"/>,
    /// carol proposes to release it as "sotu-tiny v1" (apache-2.0), both validators vote yes, and the proposal passes.
    /// </summary>
    private static async Task ReleaseOnAChainAsync(string path, string model)
    {
        string[] names = ["carol", "t1", "t2", "v1", "v2"];
        var genesis = new Genesis(1337, LedgerParams.Default with { Governance = GovernanceParams.Default with { VotingPeriodBlocks = 4 } },
            names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var ledger = await EmbeddedLedger.OpenAsync(path, genesis, cancellationToken: Ct);
        async Task Send(string who, Func<Address, ulong, Transaction> build)
        {
            var key = Key(who);
            var tx = build(key.Address, await ledger.GetNonceAsync(key.Address, Ct));
            await ledger.SubmitAsync(key.SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId }, Ct);
        }
        await Send("carol", (f, n) => new CreateTask
        {
            From = f, Nonce = n, SpecHash = H("spec"), RewardPool = Tokens.Whole(100), Rounds = 1, MinStake = Tokens.Whole(10),
            TrainersPerRound = 2, ValidatorsPerRound = 2, RejectBelow = 500_000,
        });
        foreach (var (who, role) in new[] { ("t1", Role.Trainer), ("t2", Role.Trainer), ("v1", Role.Validator), ("v2", Role.Validator) })
        {
            await Send(who, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(100) });
            await Send(who, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = role });
        }
        await Send("carol", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = H("base") });
        await Send("t1", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = H("u1"), Samples = 100 });
        await Send("t2", (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = H("u2"), Samples = 100 });
        await Send("carol", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        ulong[] scores = [950_000, 900_000];
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = 1, Commitment = SignedTransaction.ScoreCommitment(1, 1, f, scores, H("salt-" + v)) });
        }
        await Send("carol", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = 1 });
        foreach (var v in new[] { "v1", "v2" })
        {
            await Send(v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = 1, Scores = scores, Salt = H("salt-" + v) });
        }
        await Send("carol", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = 1, NewModelHash = Hash32.Parse(model) });
        await Send("carol", (f, n) => new SubmitProposal
        {
            From = f, Nonce = n, Kind = ProposalKind.ModelRelease, TaskId = 1, ModelHash = Hash32.Parse(model), Name = "sotu-tiny v1", License = "apache-2.0", Deposit = Tokens.Whole(10),
        });
        await Send("v1", (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = 1, Option = VoteOption.Yes });
        await Send("v2", (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = 1, Option = VoteOption.Yes });
        for (var i = 0; i < 4 && (await ledger.GetGovernanceAsync(Ct)).Releases.Count == 0; i++)
        {
            await ledger.ProduceEmptyBlockAsync(Ct);
        }
        Assert.Single((await ledger.GetGovernanceAsync(Ct)).Releases);
    }

    private static JsonElement Model(JsonElement list, string hash) => list.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("hash").GetString() == hash);

    [Fact]
    public async Task Model_list_shows_a_release_passed_on_the_ledger_by_name_and_license_and_lists_as_before_without_a_chain()
    {
        var (root, merged) = Registry();

        var (code, stdout, err) = await Run("model", "list", "--json");
        Assert.True(code == ExitCodes.Ok, err);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("releases_from").ValueKind);
            Assert.All(json.RootElement.GetProperty("models").EnumerateArray(), m => Assert.Equal(JsonValueKind.Null, m.GetProperty("release").ValueKind));
        }

        // The chain `skein gov` uses by default: <data-dir>/ledger/chain.db.
        var chain = Path.Combine(_dir, "ledger", "chain.db");
        await ReleaseOnAChainAsync(chain, merged);
        (code, stdout, err) = await Run("model", "list", "--json");
        Assert.True(code == ExitCodes.Ok, err);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(chain, json.RootElement.GetProperty("releases_from").GetString());
            var release = Model(json.RootElement, merged).GetProperty("release");
            Assert.Equal(("sotu-tiny v1", "apache-2.0", 1UL, 1UL),
                (release.GetProperty("name").GetString(), release.GetProperty("license").GetString(), release.GetProperty("task_id").GetUInt64(), release.GetProperty("proposal_id").GetUInt64()));
            Assert.Equal(JsonValueKind.Null, Model(json.RootElement, root).GetProperty("release").ValueKind);
            Assert.Equal("merged", Model(json.RootElement, merged).GetProperty("kind").GetString());
        }
        (code, stdout, _) = await Run("model", "list");
        Assert.Equal(ExitCodes.Ok, code);
        // The table wraps its cells at the 80 columns of a redirected output: the release's name starts its cell.
        Assert.True(stdout.Contains("│ release", StringComparison.Ordinal) && stdout.Contains("│ sotu-tin", StringComparison.Ordinal), stdout);

        // A chain named with --ledger is read instead; one that does not exist is an error naming the option.
        var elsewhere = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName, "ledger.db");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }.Where(s => File.Exists(chain + s)))
        {
            File.Move(chain + suffix, elsewhere + suffix);
        }
        (code, stdout, err) = await Run("model", "list", "--json", "--ledger", elsewhere);
        Assert.True(code == ExitCodes.Ok, err);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal("sotu-tiny v1", Model(json.RootElement, merged).GetProperty("release").GetProperty("name").GetString());
        }
        (code, _, err) = await Run("model", "list", "--ledger", chain);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"--ledger: no chain at {chain}", err, StringComparison.Ordinal);
    }
}
