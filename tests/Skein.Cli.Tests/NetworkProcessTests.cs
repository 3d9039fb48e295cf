using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>The round protocol with every party in its own process, talking gRPC over loopback.</summary>
[Collection(NetworkProcesses.Name)]
public sealed class NetworkProcessTests() : SkeinProcesses("skein-procs-", "procs-")
{
    [Fact]
    public async Task A_coordinator_and_six_node_processes_run_two_rounds_end_to_end()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "t3", "evil"];
        string[] validators = ["v1", "v2"];
        var (genesisFile, spec) = await WriteChainAsync(99, ["coordinator", .. trainers, .. validators], """
            { "name": "procs", "model": "logreg", "rounds": 2, "trainers_per_round": 4, "validators_per_round": 2,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "100", "min_stake": "10", "reject_below": 0.2 }
            """, ct);
        var coordinatorData = Path.Combine(Dir, "coordinator");
        var coordinator = Start("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", coordinatorData, "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "4:2", "--training-seconds", "60", "--commit-seconds", "30", "--reveal-seconds", "30");
        var (url, apiUrl) = await ReadAddressesAsync(coordinator, ct);
        foreach (var t in trainers)
        {
            StartTrainer(t, url, 200, (ulong)t.Length + (ulong)t[^1], "20", t == "evil" ? "sign-flip" : "honest");
        }
        foreach (var v in validators)
        {
            StartValidator(v, url, 100 + (ulong)v[^1], "50");
        }

        using (var api = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(apiUrl)))
        {
            for (var i = 0; i < 1000 && !(await api.GetTaskAsync(1, ct)).Completed; i++)
            {
                await Task.Delay(100, ct);
            }
            Assert.True((await api.GetTaskAsync(1, ct)).Completed, "the task did not complete within 100 s");
        }

        // An outsider recomputes both rounds from the published models and updates.
        var (code, stdout) = await RunToEndAsync(ct, "verify", "--coordinator", apiUrl, "--task", "1", "--json");
        Assert.Equal(0, code);
        using (var doc = System.Text.Json.JsonDocument.Parse(stdout))
        {
            Assert.Equal("ok", doc.RootElement.GetProperty("verify").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("rounds").GetArrayLength());
            Assert.All(doc.RootElement.GetProperty("rounds").EnumerateArray(), r => Assert.Equal(3, r.GetProperty("accepted").GetInt32()));
        }

        // A coordinator that serves other bytes under an accepted update's name is caught.
        await using (var peek = await EmbeddedLedger.OpenAsync(Path.Combine(coordinatorData, "ledger.db"), cancellationToken: ct))
        {
            var accepted = (await peek.GetRoundAsync(1, 2, ct))!.Outcomes.First(o => o.Accepted).UpdateHash.ToString()[2..];
            var blob = Path.Combine(coordinatorData, "blobs", "blobs", accepted[..2], accepted[2..]);
            var bytes = await File.ReadAllBytesAsync(blob, ct);
            bytes[^1] ^= 0x01;
            File.SetAttributes(blob, FileAttributes.Normal);
            await File.WriteAllBytesAsync(blob, bytes, ct);
        }
        (code, stdout) = await RunToEndAsync(ct, "verify", "--coordinator", apiUrl, "--task", "1", "--round", "2", "--json");
        Assert.Equal(ExitCodes.VerificationFailed, code);
        using (var doc = System.Text.Json.JsonDocument.Parse(stdout))
        {
            Assert.Equal("failed", doc.RootElement.GetProperty("verify").GetString());
            Assert.Contains("hash", doc.RootElement.GetProperty("rounds")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        }
        coordinator.Kill(entireProcessTree: true);
        await coordinator.WaitForExitAsync(ct);

        var report = await EmbeddedLedger.VerifyAsync(Path.Combine(coordinatorData, "ledger.db"), ct);
        Assert.True(report.Ok, report.Reason);
        await using var ledger = await EmbeddedLedger.OpenAsync(Path.Combine(coordinatorData, "ledger.db"), cancellationToken: ct);
        var task = (await ledger.GetTaskAsync(1, ct))!;
        Assert.True(task.Completed);
        for (uint r = 1; r <= 2; r++)
        {
            var round = (await ledger.GetRoundAsync(1, r, ct))!;
            Assert.Equal(4, round.Updates.Count);
            Assert.False(round.Outcomes.Single(o => o.Trainer == Key("evil").Address).Accepted);
            Assert.Equal(3, round.Outcomes.Count(o => o.Accepted));
            Assert.Equal(2, round.Revealed.Count);
        }
        Assert.True(await ledger.GetBalanceAsync(Key("t1").Address, ct) > Tokens.Whole(980));
        Assert.True((await ledger.GetStakeAsync(Key("evil").Address, Skein.Ledger.Transactions.Role.Trainer, ct)).Self < Tokens.Whole(20));
    }

    /// <summary>Updates committed on the ledger so far, read without disturbing the coordinator (read-only SQLite).</summary>
    private static long CommittedUpdates(string ledgerPath)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={ledgerPath};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM transactions WHERE type = 'SubmitUpdate'";
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public async Task A_node_killed_mid_upload_is_left_out_of_the_round_and_rejoins_the_next()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "flaky"];
        // The CNN's update (6.6 MB) takes several 1 MiB chunks, so an upload can die in the middle.
        var (genesisFile, spec) = await WriteChainAsync(97, ["coordinator", "v1", .. trainers], """
            { "name": "flaky", "model": "cnn", "rounds": 2, "trainers_per_round": 3, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "30", "min_stake": "5", "reject_below": 0.05 }
            """, ct);
        var data = Path.Combine(Dir, "coordinator");
        // Round 1 waits out its whole deadline (the flaky node never finishes), round 2 closes once all three have uploaded:
        // the deadline must leave a restarted CNN node time to start, train and upload on a loaded 2-core machine.
        var coordinator = Start("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", data, "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "3:1", "--exit-when-done", "--training-seconds", "60", "--commit-seconds", "60", "--reveal-seconds", "60");
        var url = (await coordinator.StandardOutput.ReadLineAsync(ct))![10..];
        foreach (var t in trainers)
        {
            SyntheticImages.WriteIdxFiles(Path.Combine(Dir, t), "train", 200, (ulong)t.Length);
        }
        SyntheticImages.WriteIdxFiles(Path.Combine(Dir, "v1"), "heldout", 300, 7);
        string[] FlakyArgs(string behaviour) => ["node", "--key-file", KeyFileOf("flaky"), "--coordinator", url, "--data", Path.Combine(Dir, "flaky"), "--trainer-stake", "5", "--behaviour", behaviour];
        var flaky = Start(FlakyArgs("stall-upload"));
        foreach (var t in trainers.Where(t => t != "flaky"))
        {
            Start("node", "--key-file", KeyFileOf(t), "--coordinator", url, "--data", Path.Combine(Dir, t), "--trainer-stake", "5");
        }
        Start("node", "--key-file", KeyFileOf("v1"), "--coordinator", url, "--data", Path.Combine(Dir, "v1"), "--validator-stake", "5");

        // Wait until the coordinator holds part of the flaky node's upload, then kill the node.
        var uploads = Path.Combine(data, "blobs", "uploads");
        long Partial() => Directory.Exists(uploads) ? Directory.GetFiles(uploads, "*.part").Select(f => new FileInfo(f).Length).DefaultIfEmpty(0).Max() : 0;
        for (var i = 0; i < 600 && Partial() < 1 << 20; i++)
        {
            await Task.Delay(100, ct);
        }
        Assert.True(Partial() >= 1 << 20, "the flaky node never started its upload");
        flaky.Kill(entireProcessTree: true);
        await flaky.WaitForExitAsync(ct);

        // Round 1 closes its training at the deadline without the flaky node; the node comes back then, while round 1's
        // validators score, so that it is up (process, libtorch, sign-in) before round 2 opens and trains in it.
        var ledgerPath = Path.Combine(data, "ledger.db");
        for (var i = 0; i < 900 && Transactions(ledgerPath, "CloseTraining") < 1; i++)
        {
            await Task.Delay(100, ct);
        }
        Assert.Equal(1, Transactions(ledgerPath, "CloseTraining"));
        Start(FlakyArgs("honest"));

        await coordinator.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(160), ct);
        Assert.Equal(0, coordinator.ExitCode);
        await using var ledger = await EmbeddedLedger.OpenAsync(ledgerPath, cancellationToken: ct);
        var first = (await ledger.GetRoundAsync(1, 1, ct))!;
        var expected = new[] { Key("t1").Address, Key("t2").Address }.OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, first.Updates.Select(u => u.Trainer).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray());
        Assert.All(first.Outcomes, o => Assert.True(o.Accepted));
        var second = (await ledger.GetRoundAsync(1, 2, ct))!;
        Assert.Equal(3, second.Updates.Count);
        Assert.True(second.Outcomes.Single(o => o.Trainer == Key("flaky").Address).Accepted, "the rejoined node's update was not accepted");
        Assert.True((await ledger.GetTaskAsync(1, ct))!.Completed);
    }

    [Fact]
    public async Task A_coordinator_killed_mid_round_restarts_and_finishes_the_round_keeping_every_accepted_update()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "slow"];
        var (genesisFile, spec) = await WriteChainAsync(98, ["coordinator", "v1", .. trainers], """
            { "name": "restart", "model": "cnn", "rounds": 1, "trainers_per_round": 3, "validators_per_round": 1,
              "training": { "epochs": 2, "batch_size": 10, "lr": 0.05 }, "reward_pool": "30", "min_stake": "5", "reject_below": 0.05 }
            """, ct);
        var data = Path.Combine(Dir, "coordinator");
        var port = FreePort();
        string[] coordinatorArgs = ["coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", data, "--genesis", genesisFile, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--task", spec, "--start-when-joined", "3:1", "--exit-when-done", "--training-seconds", "120", "--commit-seconds", "60", "--reveal-seconds", "60"];
        var first = Start(coordinatorArgs);
        var url = (await first.StandardOutput.ReadLineAsync(ct))![10..];
        foreach (var t in trainers)
        {
            // The slow trainer has fifteen times the data (seconds of CNN training), so the round is still open
            // when the others have submitted.
            StartTrainer(t, url, t == "slow" ? 3_000 : 200, (ulong)t.Length, "5");
        }
        StartValidator("v1", url, 7, "5");

        var ledgerPath = Path.Combine(data, "ledger.db");
        for (var i = 0; i < 600 && (!File.Exists(ledgerPath) || CommittedUpdates(ledgerPath) < 2); i++)
        {
            await Task.Delay(100, ct);
        }
        var before = CommittedUpdates(ledgerPath);
        Assert.True(before is >= 2 and < 3, $"{before} updates committed when the coordinator was to be killed");
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync(ct);

        // Same folder, same port: the nodes reconnect with backoff and the round goes on.
        var second = Start(coordinatorArgs);
        Assert.StartsWith("listening ", await second.StandardOutput.ReadLineAsync(ct), StringComparison.Ordinal);
        try
        {
            await second.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(110), ct);
        }
        catch (TimeoutException)
        {
            foreach (var p in Processes.Where(p => !p.HasExited))
            {
                p.Kill(entireProcessTree: true);
            }
            await Task.Delay(500, ct);
            Assert.Fail(string.Join("\n", Directory.GetFiles(Dir, "*.log").Order().Select(f => $"== {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(12))}")));
        }
        Assert.Equal(0, second.ExitCode);

        Assert.True((await EmbeddedLedger.VerifyAsync(ledgerPath, ct)).Ok);
        await using var ledger = await EmbeddedLedger.OpenAsync(ledgerPath, cancellationToken: ct);
        var round = (await ledger.GetRoundAsync(1, 1, ct))!;
        Assert.Equal(3, round.Updates.Count);
        Assert.Equal(RoundPhase.Settled, round.Phase);
        Assert.Equal(3, round.Outcomes.Count(o => o.Accepted));
        Assert.Single(await ledger.ListTasksAsync(ct));
    }
}
