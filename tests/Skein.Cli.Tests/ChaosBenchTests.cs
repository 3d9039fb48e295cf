using System.Text.Json;

namespace Skein.Cli.Tests;

/// <summary>
/// A short <c>skein bench chaos</c>: a coordinator, 4 trainers and 2 validators on synthetic data, with the coordinator,
/// a trainer and a validator SIGKILLed and restarted and every node's connection going through the fault proxy; every
/// check of the bench must hold.
/// </summary>
public sealed class ChaosBenchTests() : SkeinProcesses("skein-chaos-test-", "chaos-")
{
    [Fact]
    public async Task A_short_chaos_run_kills_every_role_and_every_check_holds()
    {
        var ct = TestContext.Current.CancellationToken;
        var bench = Start("bench", "chaos", "--minutes", "0.6", "--seed", "3", "--trainers", "4", "--validators", "2", "--synthetic-data", "200",
            "--kill-every", "4:7", "--no-baseline", "--work-dir", Path.Combine(Dir, "run"), "--json");
        var stdout = await bench.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(240), ct);
        await bench.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        var log = string.Join("\n", Directory.GetFiles(Dir, "*.log").Select(f => string.Join("\n", File.ReadLines(f).TakeLast(30))));
        Assert.True(r.GetProperty("all_checks_ok").GetBoolean(), $"{stdout}\n{log}");
        Assert.Equal(0, bench.ExitCode);

        var kills = r.GetProperty("kills");
        foreach (var role in new[] { "trainer", "validator", "coordinator" })
        {
            Assert.True(kills.GetProperty(role).GetInt32() >= 1, $"no {role} was killed: {kills}");
        }
        // How many rounds fit in 36 s depends on the machine's load (every kill restarts a process); at least one must.
        Assert.True(r.GetProperty("rounds_finalized").GetInt32() >= 1, stdout);
        Assert.Equal(0, r.GetProperty("rounds_failed").GetArrayLength());
        Assert.Equal("ok", r.GetProperty("verify").GetString());
        Assert.Equal(r.GetProperty("rounds_finalized").GetInt32(), r.GetProperty("verified_rounds").GetInt32());
        Assert.Equal("ok", r.GetProperty("ledger_replay").GetString());
        Assert.True(r.GetProperty("supply_conserved").GetBoolean());
        Assert.True(r.GetProperty("accepted_updates").GetInt32() > 0);
        Assert.Equal(0, r.GetProperty("accepted_updates_missing").GetArrayLength());
        Assert.Equal(0, r.GetProperty("orphaned_processes").GetArrayLength());
        Assert.Equal(0, r.GetProperty("crashes").GetArrayLength());
        var faults = r.GetProperty("proxy_faults");
        Assert.True(faults.GetProperty("connections").GetInt64() > 6, faults.ToString());
        Assert.True(faults.GetProperty("delayed_chunks").GetInt64() + faults.GetProperty("resets").GetInt64() + faults.GetProperty("cuts").GetInt64() > 0, faults.ToString());
        // After one round of 200 synthetic images a node the model may still be near chance: only a real figure is asked for.
        Assert.InRange(r.GetProperty("accuracy").GetDouble(), 0.01, 1.0);
    }
}
