using System.Text.Json;
using Skein.Cli;

namespace Skein.Cli.Tests;

public sealed class LedgerCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-ledger-cli-").FullName;

    public LedgerCliTests() => Environment.SetEnvironmentVariable("SKEIN_TEST_PASSWORD", "correct horse battery staple");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] common = ["--data-dir", _dir, "--password-env", "SKEIN_TEST_PASSWORD"];
        var needsKeys = args.Length > 0 && args[0] is "keys" or "balance" or "transfer" or "stake" or "unstake" or "delegate" or "undelegate"
            || (args.Length > 1 && (args[0], args[1]) is ("task", "create") or ("ledger", "init") or ("gov", "propose") or ("gov", "vote"));
        var code = await SkeinCommand.RunAsync(needsKeys ? [.. args, .. common] : [.. args, "--data-dir", _dir], output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonElement> Json(params string[] args)
    {
        var (code, stdout, err) = await Run([.. args, "--json"]);
        Assert.True(code == 0, $"{string.Join(' ', args)}: {err}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public async Task A_transaction_to_a_chain_file_another_process_writes_is_refused_naming_it_and_goes_through_once_it_is_free()
    {
        await Json("keys", "new", "alice");
        await Json("keys", "new", "bob");
        await Json("ledger", "init", "--fund", "alice=1000");
        var chain = Path.Combine(_dir, "ledger", "chain.db");
        // A running coordinator holds its chain's lock; two writers would fork the chain.
        using (Skein.Ledger.Storage.ChainLock.Acquire(chain))
        {
            var (code, stdout, err) = await Run("transfer", "--key", "alice", "--to", "bob", "--amount", "10", "--json");
            Assert.Equal(ExitCodes.InvalidOptions, code);
            Assert.Empty(stdout);
            Assert.Contains($"ChainInUse: ledger: {chain} is being written by another process (a running coordinator?)", err, StringComparison.Ordinal);
            Assert.Equal("1000000000000000000000", (await Json("balance", "alice")).GetProperty("balance").GetString());
            Assert.Equal(0UL, (await Json("balance", "alice")).GetProperty("nonce").GetUInt64());
        }
        await Json("transfer", "--key", "alice", "--to", "bob", "--amount", "10");
        Assert.Equal("990000000000000000000", (await Json("balance", "alice")).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task Keys_chain_stake_and_task_from_the_command_line()
    {
        var alice = (await Json("keys", "new", "alice")).GetProperty("address").GetString()!;
        await Json("keys", "new", "bob");
        Assert.Equal(2, (await Json("keys", "list")).GetProperty("keys").GetArrayLength());

        var init = await Json("ledger", "init", "--fund", "alice=1000", "--fund", "bob=500.5");
        Assert.Equal(1337UL, init.GetProperty("chain_id").GetUInt64());

        var balance = await Json("balance", "alice");
        Assert.Equal(alice, balance.GetProperty("address").GetString());
        Assert.Equal("1000000000000000000000", balance.GetProperty("balance").GetString());

        await Json("transfer", "--key", "alice", "--to", "bob", "--amount", "10");
        await Json("stake", "--key", "alice", "--role", "validator", "--amount", "100");
        await Json("delegate", "--key", "bob", "--to", "alice", "--role", "validator", "--amount", "50");
        var after = await Json("balance", "alice");
        Assert.Equal("890000000000000000000", after.GetProperty("balance").GetString());
        Assert.Equal("50000000000000000000", after.GetProperty("validator_stake").GetProperty("delegated").GetString());

        var spec = Path.Combine(_dir, "task.json");
        await File.WriteAllTextAsync(spec, """
            { "name": "t", "model": "2nn", "rounds": 3, "trainers_per_round": 2, "reward_pool": "30", "min_stake": "5" }
            """, TestContext.Current.CancellationToken);
        var task = await Json("task", "create", "--key", "alice", "--spec", spec);
        Assert.Equal(1UL, task.GetProperty("task_id").GetUInt64());
        Assert.Single((await Json("task", "list")).GetProperty("tasks").EnumerateArray());
        Assert.Equal(3u, (await Json("task", "show", "1")).GetProperty("task").GetProperty("rounds").GetUInt32());

        // transfer, stake, delegate, create_task: one block each
        var status = await Json("ledger", "status");
        Assert.Equal(4UL, status.GetProperty("height").GetUInt64());
        var verify = await Json("ledger", "verify");
        Assert.True(verify.GetProperty("ok").GetBoolean());
        Assert.Equal(4UL, verify.GetProperty("transactions").GetUInt64());
        var blocks = await Json("ledger", "blocks", "--limit", "2");
        var id = blocks.GetProperty("blocks")[0].GetProperty("transaction_ids")[0].GetString()!;
        Assert.Equal(4UL, (await Json("ledger", "tx", id)).GetProperty("block").GetUInt64());
    }

    [Fact]
    public async Task Governance_from_the_command_line_propose_vote_and_count()
    {
        await Json("keys", "new", "alice");
        var bob = (await Json("keys", "new", "bob")).GetProperty("address").GetString()!;
        await Json("ledger", "init", "--fund", "alice=1000", "--fund", "bob=500");
        await Json("stake", "--key", "alice", "--role", "validator", "--amount", "300");
        await Json("delegate", "--key", "bob", "--to", "alice", "--role", "validator", "--amount", "100");

        var parameters = await Json("gov", "params");
        var slash = parameters.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "incentives.trainer_slash_bps");
        Assert.Equal("1000", slash.GetProperty("value").GetString());
        Assert.Equal("[0, 10000]", slash.GetProperty("range").GetString());

        var proposed = await Json("gov", "propose", "--key", "alice", "--kind", "parameter_change", "--parameter", "incentives.trainer_slash_bps", "--value", "2500");
        Assert.Equal(1UL, proposed.GetProperty("proposal_id").GetUInt64());
        await Json("gov", "vote", "--key", "alice", "1", "yes");
        await Json("gov", "vote", "--key", "bob", "1", "no");

        var tally = await Json("gov", "tally", "1");
        var count = tally.GetProperty("tally");
        // alice's own 300 vote yes; bob's delegated 100 follow bob's own no.
        Assert.False(count.GetProperty("final").GetBoolean());
        Assert.Equal("300000000000000000000", count.GetProperty("yes").GetString());
        Assert.Equal("100000000000000000000", count.GetProperty("no").GetString());
        Assert.True(count.GetProperty("passed").GetBoolean());
        var proposal = tally.GetProperty("proposal");
        Assert.Equal("voting", proposal.GetProperty("status").GetString());
        Assert.Equal("incentives.trainer_slash_bps = 2500", proposal.GetProperty("asks").GetString());
        Assert.Contains(proposal.GetProperty("votes").EnumerateArray(), v => v.GetProperty("voter").GetString() == bob && v.GetProperty("option").GetString() == "no");
        Assert.Single((await Json("gov", "list")).GetProperty("proposals").EnumerateArray());

        var (code, _, err) = await Run("gov", "propose", "--key", "alice", "--kind", "parameter_change", "--parameter", "unbonding_blocks", "--value", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("unbonding_blocks: must be in [1, 10000000], got 0", err, StringComparison.Ordinal);
        (code, _, err) = await Run("gov", "propose", "--key", "alice", "--kind", "parameter_change", "--parameter", "unbonding_blocks", "--value", "5", "--deposit", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("deposit: 1 is below governance.min_deposit 10", err, StringComparison.Ordinal);
        (code, _, err) = await Run("gov", "vote", "--key", "alice", "1", "maybe");
        Assert.NotEqual(0, code);
        Assert.Contains("option: must be one of yes, abstain, no, no_with_veto; got 'maybe'", err, StringComparison.Ordinal);
        (code, _, err) = await Run("gov", "propose", "--key", "alice", "--kind", "coup");
        Assert.NotEqual(0, code);
        Assert.Contains("--kind: must be one of parameter_change, task_approval, model_release, treasury_spend; got 'coup'", err, StringComparison.Ordinal);
        (code, _, err) = await Run("gov", "show", "7");
        Assert.NotEqual(0, code);
        Assert.Contains("no proposal 7", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_are_specific_and_exit_non_zero()
    {
        await Json("keys", "new", "alice");
        await Json("ledger", "init", "--fund", "alice=10");
        var (code, _, err) = await Run("transfer", "--key", "alice", "--to", "0x0000000000000000000000000000000000000001", "--amount", "11");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("InsufficientBalance", err, StringComparison.Ordinal);

        (code, _, err) = await Run("stake", "--key", "alice", "--role", "janitor", "--amount", "1");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--role: must be trainer or validator", err, StringComparison.Ordinal);

        var spec = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(spec, """{ "name": "t", "model": "2nn", "rounds": 0, "trainers_per_round": 2, "reward_pool": "3" }""", TestContext.Current.CancellationToken);
        (code, _, err) = await Run("task", "create", "--key", "alice", "--spec", spec);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("rounds: must be in [1, 100000], got 0", err, StringComparison.Ordinal);

        (code, _, err) = await Run("task", "show", "9");
        Assert.Contains("no task 9", err, StringComparison.Ordinal);

        (code, _, err) = await Run("transfer", "--key", "alice", "--to", "0xnotanaddress", "--amount", "1");
        Assert.Contains("--to", err, StringComparison.Ordinal);

        (code, _, err) = await Run("keys", "new", "alice");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("alice", err, StringComparison.Ordinal);
        Assert.DoesNotContain("correct horse", err, StringComparison.Ordinal);

        Environment.SetEnvironmentVariable("SKEIN_WRONG_PASSWORD", "nope");
        var output = new StringWriter();
        var error = new StringWriter();
        code = await SkeinCommand.RunAsync(["transfer", "--key", "alice", "--to", "alice", "--amount", "1", "--data-dir", _dir, "--password-env", "SKEIN_WRONG_PASSWORD"], output, error, TestContext.Current.CancellationToken);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("wrong password for key 'alice'", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("nope", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_without_a_chain_say_how_to_create_one()
    {
        var (code, _, err) = await Run("ledger", "status");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("skein ledger init", err, StringComparison.Ordinal);
    }
}
