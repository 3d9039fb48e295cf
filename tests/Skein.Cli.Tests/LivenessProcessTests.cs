using System.Globalization;
using System.Text.Json;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>
/// A coordinator killed for good does not hold anyone's stake or the reward pool: the nodes close its phases after
/// their deadlines and cancel the task after the abandonment period, each with `skein` in a process of its own.
/// </summary>
[Collection(NetworkProcesses.Name)]
public sealed class LivenessProcessTests() : SkeinProcesses("skein-liveness-", "liveness-")
{
    /// <summary>Market blocks of 100 ms; training may last 45 of them (4.5 s), committing and revealing 20 (2 s), a task may sit still for 50 (5 s).</summary>
    private const ulong BlockMs = 100;

    private static readonly LivenessParams Rules = new(45, 20, 20, 50);

    private async Task<(string Genesis, string Spec)> WriteChainAsync(string[] parties, CancellationToken ct)
    {
        var parameters = LedgerParams.Default with { Market = MarketParams.Default with { BlockIntervalMs = BlockMs }, Liveness = Rules };
        var genesis = new Genesis(77, parameters, parties.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        var genesisFile = Path.Combine(Dir, "genesis.json");
        await File.WriteAllTextAsync(genesisFile, GenesisJson.Serialize(genesis), ct);
        var spec = Path.Combine(Dir, "task.json");
        await File.WriteAllTextAsync(spec, """
            { "name": "hostage", "model": "logreg", "rounds": 3, "trainers_per_round": 3, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "90", "min_stake": "10", "reject_below": 0.2 }
            """, ct);
        return (genesisFile, spec);
    }

    /// <summary>The market height now: the genesis is at time 0, so it is the wall clock in market blocks (what the next block will be at).</summary>
    private static ulong MarketHeightNow() => (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / BlockMs;

    /// <summary>Waits (bounded) until the ledger's clock has passed <paramref name="height"/>.</summary>
    private static async Task PastAsync(ulong height, CancellationToken ct)
    {
        for (var i = 0; i < 600 && MarketHeightNow() <= height; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(BlockMs), ct);
        }
    }

    /// <summary>Options of a command that signs with a key of this test's key folder.</summary>
    private string[] Ledger(string file) => ["--ledger", file, "--keys-dir", Path.Combine(Dir, "keys"), "--json"];

    /// <summary>Options of a command that only reads.</summary>
    private static string[] Reading(string file) => ["--ledger", file, "--json"];

    private async Task<JsonElement> JsonAsync(CancellationToken ct, params string[] args)
    {
        var (code, stdout) = await RunToEndAsync(ct, args);
        Assert.True(code == 0, $"skein {string.Join(' ', args)} exited {code}: {stdout}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task A_killed_coordinator_never_returns_nodes_close_its_phases_then_cancel_the_task_and_every_stake_and_the_pool_come_back()
    {
        var ct = TestContext.Current.CancellationToken;
        var data = Path.Combine(Dir, "coordinator");
        var chain = Path.Combine(data, "ledger.db");
        await HostageAsync([], () => Task.FromResult(Transactions(chain, "SubmitUpdate")), _ => Task.FromResult<string[]>(["--ledger", chain]), ct);
        var report = await EmbeddedLedger.VerifyAsync(chain, ct);
        Assert.True(report.Ok, report.Reason);
    }

    [Fact]
    public async Task On_an_evm_chain_a_killed_coordinator_never_returns_and_the_nodes_close_its_phases_and_cancel_the_task_on_the_chain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var anvil = await Skein.Ledger.Evm.AnvilNode.StartAsync(77, cancellationToken: ct);
        // On a chain each key relays its own transactions: the coordinator and every node pay their gas.
        foreach (var name in new[] { "coordinator", "t1", "t2", "staller", "v1", "outsider" })
        {
            using var key = Key(name);
            await anvil.FundAsync(key.Address.ToString(), Skein.Ledger.Evm.AnvilNode.ThousandEther, ct);
        }
        string? contract = null;
        async Task<string[]> Target(string api)
        {
            if (contract is null)
            {
                using var client = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(api));
                contract = (await client.GetStatusAsync(ct)).Ledger!.Contract!;
            }
            return ["--rpc", anvil.Rpc.ToString(), "--contract", contract];
        }
        async Task<long> Submitted()
        {
            if (contract is null)
            {
                return 0;
            }
            await using var read = await Skein.Ledger.Evm.EvmLedger.ReadAsync(anvil.Rpc, contract, cancellationToken: ct);
            return (await read.GetRoundAsync(1, 1, ct))?.Updates.Count ?? 0;
        }
        await HostageAsync(["--ledger", "evm", "--rpc", anvil.Rpc.ToString(), "--chain-id", "77"], Submitted, Target, ct);
    }

    /// <summary>
    /// A coordinator on <paramref name="chainArgs"/>'s ledger holds round 1's training open and dies; the nodes, through
    /// `skein` with <paramref name="target"/>'s options (given the coordinator's API URL), close every phase after its
    /// deadline, then cancel the task after the abandonment period, and take their stakes out.
    /// </summary>
    private async Task HostageAsync(string[] chainArgs, Func<Task<long>> submitted, Func<string, Task<string[]>> target, CancellationToken ct)
    {
        string[] trainers = ["t1", "t2"];
        var (genesisFile, spec) = await WriteChainAsync(["coordinator", .. trainers, "staller", "v1", "outsider"], ct);
        var data = Path.Combine(Dir, "coordinator");
        var coordinator = Start(["coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", data, "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "3:1", "--training-seconds", "600", "--commit-seconds", "600", "--reveal-seconds", "600", .. chainArgs]);
        var (url, api) = await ReadAddressesAsync(coordinator, ct);
        var on = await target(api);
        foreach (var t in trainers)
        {
            StartTrainer(t, url, 100, (ulong)t[^1], "20");
        }
        // A third picked trainer never finishes its upload, so the coordinator keeps training open until its own deadline.
        StartTrainer("staller", url, 100, 3, "20", "stall-upload");
        StartValidator("v1", url, 9, "30");
        foreach (var name in new[] { "t1", "t2", "v1", "outsider" })
        {
            KeyFileOf(name);
        }
        string[] Signing(params string[] args) => [.. args, .. on, "--keys-dir", Path.Combine(Dir, "keys"), "--json"];
        string[] Read(params string[] args) => [.. args, .. on, "--json"];

        // Round 1's training stays open (the coordinator's own deadline is 10 minutes) once two of three trainers have submitted; then the coordinator dies.
        for (var i = 0; i < 900 && await submitted() < 2; i++)
        {
            await Task.Delay(100, ct);
        }
        Assert.Equal(2, await submitted());
        coordinator.Kill(entireProcessTree: true);
        await coordinator.WaitForExitAsync(ct);

        var task = await JsonAsync(ct, Read("task", "show", "1"));
        var round = task.GetProperty("rounds")[0];
        Assert.Equal("training", round.GetProperty("phase").GetString());
        var deadline = round.GetProperty("deadline").GetUInt64();
        if (MarketHeightNow() + 25 < deadline)
        {
            // Before the deadline a node may not close what is the coordinator's to close (a skein process takes a second or two to start).
            var now = MarketHeightNow();
            var (early, stdout) = await RunToEndAsync(ct, Signing("round", "close", "--task", "1", "--key", "t1"));
            Assert.True(early == ExitCodes.InvalidOptions, $"closed at market height {now}, before the deadline {deadline}: {stdout}");
        }
        var creator = Key("coordinator").Address.ToString();
        var before = await JsonAsync(ct, Signing("balance", creator));

        // After each deadline a staked node closes the phase: training (t1), commits (v1), then it settles the round (t2).
        await PastAsync(deadline, ct);
        var closed = await JsonAsync(ct, Signing("round", "close", "--task", "1", "--key", "t1"));
        Assert.Equal("training", closed.GetProperty("closed").GetString());
        Assert.Equal("committing", closed.GetProperty("phase").GetString());
        Assert.Equal(Key("t1").Address.ToString(), closed.GetProperty("by").GetString());
        task = await JsonAsync(ct, Read("task", "show", "1"));
        await PastAsync(task.GetProperty("rounds")[0].GetProperty("deadline").GetUInt64(), ct);
        closed = await JsonAsync(ct, Signing("round", "close", "--task", "1", "--key", "v1"));
        Assert.Equal("revealing", closed.GetProperty("phase").GetString());
        task = await JsonAsync(ct, Read("task", "show", "1"));
        await PastAsync(task.GetProperty("rounds")[0].GetProperty("deadline").GetUInt64(), ct);
        // Nobody could score (the updates were only at the dead coordinator): nothing is accepted, the model stands.
        closed = await JsonAsync(ct, Signing("round", "close", "--task", "1", "--key", "t2"));
        Assert.Equal("settled", closed.GetProperty("phase").GetString());
        Assert.Equal(0, closed.GetProperty("accepted").GetInt32());
        task = await JsonAsync(ct, Read("task", "show", "1"));
        Assert.Equal(1, task.GetProperty("task").GetProperty("settled_rounds").GetInt32());

        // Round 2 never opens. While the task lives the stakes are bound to it; after the abandonment period anyone cancels it.
        var (bound, _) = await RunToEndAsync(ct, Signing("unstake", "--key", "v1", "--role", "validator", "--amount", "30"));
        Assert.Equal(ExitCodes.InvalidOptions, bound);
        var abandon = task.GetProperty("task").GetProperty("abandon_height").GetUInt64();
        await PastAsync(abandon, ct);
        var cancelled = await JsonAsync(ct, Signing("task", "cancel", "1", "--key", "outsider"));
        Assert.True(cancelled.GetProperty("cancelled").GetBoolean());
        var refunded = UInt128.Parse(cancelled.GetProperty("refunded").GetString()!, CultureInfo.InvariantCulture);
        // Round 1 paid nobody, so the whole pool is back with the creator.
        Assert.Equal(Tokens.Whole(90), refunded);
        var after = await JsonAsync(ct, Signing("balance", creator));
        Assert.Equal(UInt128.Parse(before.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture) + refunded,
            UInt128.Parse(after.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture));
        var (twice, _) = await RunToEndAsync(ct, Signing("task", "cancel", "1", "--key", "t1"));
        Assert.Equal(ExitCodes.InvalidOptions, twice);

        // Every participant's stake is free: each takes all of it out.
        foreach (var (who, role, amount) in new[] { ("t1", "trainer", "20"), ("t2", "trainer", "20"), ("staller", "trainer", "20"), ("v1", "validator", "30") })
        {
            await JsonAsync(ct, Signing("unstake", "--key", who, "--role", role, "--amount", amount));
        }
        var status = await JsonAsync(ct, Read("ledger", "status"));
        Assert.True(status.GetProperty("supply_conserved").GetBoolean(), status.ToString());
    }

    [Fact]
    public async Task A_task_handed_over_mid_task_finishes_under_a_second_coordinator_process_and_every_round_verifies()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2"];
        var (genesisFile, spec) = await WriteChainAsync(["coordinator", .. trainers, "v1"], ct);
        await File.WriteAllTextAsync(spec, """
            { "name": "handover", "model": "logreg", "rounds": 4, "trainers_per_round": 2, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "80", "min_stake": "10", "reject_below": 0.2 }
            """, ct);
        var first = Path.Combine(Dir, "first");
        var coordinator = Start("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", first, "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "2:1", "--training-seconds", "60", "--commit-seconds", "30", "--reveal-seconds", "30");
        var (url, _) = await ReadAddressesAsync(coordinator, ct);
        var nodes = trainers.Select(t => StartTrainer(t, url, 100, (ulong)t[^1], "20")).Append(StartValidator("v1", url, 9, "30")).ToList();

        // Two rounds settle under the first coordinator; then it stops for good, and so do the nodes connected to it.
        var chain = Path.Combine(first, "ledger.db");
        for (var i = 0; i < 900 && Transactions(chain, "FinalizeRound") < 2; i++)
        {
            await Task.Delay(100, ct);
        }
        Assert.True(Transactions(chain, "FinalizeRound") >= 2, "two rounds did not settle under the first coordinator");
        foreach (var p in nodes.Prepend(coordinator))
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(ct);
        }
        var settledBefore = (int)Transactions(chain, "FinalizeRound");

        // Only the creator may hand the task over.
        var successor = Key("successor").Address.ToString();
        KeyFileOf("successor");
        var (refused, _) = await RunToEndAsync(ct, ["task", "handover", "1", "--to", successor, "--key", "t1", .. Ledger(chain)]);
        Assert.Equal(ExitCodes.InvalidOptions, refused);
        var handed = await JsonAsync(ct, ["task", "handover", "1", "--to", successor, "--key", "coordinator", .. Ledger(chain)]);
        Assert.Equal(successor, handed.GetProperty("coordinator").GetString());
        Assert.Equal(Key("coordinator").Address.ToString(), handed.GetProperty("from_coordinator").GetString());

        // The successor opens the same chain, mirrors the task's blobs from the first coordinator's published store, and resumes.
        var second = Start("coordinator", "--key-file", KeyFileOf("successor"), "--data-dir", Path.Combine(Dir, "second"), "--ledger-file", chain,
            "--take-over", "1", "--take-over-spec", spec, "--peer", Path.Combine(first, "blobs"), "--exit-when-done",
            "--training-seconds", "60", "--commit-seconds", "30", "--reveal-seconds", "30");
        var (secondUrl, _) = await ReadAddressesAsync(second, ct);
        foreach (var t in trainers)
        {
            StartTrainer(t, secondUrl, 100, (ulong)t[^1], "20");
        }
        StartValidator("v1", secondUrl, 9, "30");
        await second.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(180), ct);
        Assert.Equal(0, second.ExitCode);

        var task = await JsonAsync(ct, ["task", "show", "1", .. Reading(chain)]);
        Assert.True(task.GetProperty("task").GetProperty("completed").GetBoolean());
        Assert.Equal(successor, task.GetProperty("task").GetProperty("coordinator").GetString());
        Assert.True(settledBefore is >= 2 and < 4, $"{settledBefore} rounds settled before the handover");

        // Every round verifies from the successor's blobs, those settled before the handover too.
        var restarted = Start("coordinator", "--key-file", KeyFileOf("successor"), "--data-dir", Path.Combine(Dir, "second"), "--ledger-file", chain);
        var (_, api) = await ReadAddressesAsync(restarted, ct);
        var (code, stdout) = await RunToEndAsync(ct, "verify", "--coordinator", api, "--task", "1", "--json");
        Assert.True(code == 0, stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("ok", doc.RootElement.GetProperty("verify").GetString());
        Assert.Equal(4, doc.RootElement.GetProperty("rounds").GetArrayLength());
    }
}
