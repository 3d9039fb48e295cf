using System.Text.Json;
using Skein.Cli.Network;

namespace Skein.Cli.Tests;

/// <summary>`skein bench memory`: the fields it promises, read from a short run, and the /proc readers beneath it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MemoryBenchTests() : SkeinProcesses("skein-memory-test-", "memory-")
{
    [Fact]
    public async Task A_short_run_reports_every_role_with_its_peaks_and_where_the_memory_goes()
    {
        var ct = TestContext.Current.CancellationToken;
        var bench = Start("bench", "memory", "--rounds", "1", "--cnn-rounds", "0", "--synthetic-data", "200", "--json");
        var stdout = await bench.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(300), ct);
        await bench.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(bench.ExitCode == 0, stdout);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        var roles = r.GetProperty("processes").EnumerateArray().ToArray();
        Assert.Equal(["coordinator", "trainer", "validator"], roles.Select(p => p.GetProperty("role").GetString()));
        Assert.All(roles, p =>
        {
            Assert.Equal("2nn", p.GetProperty("model").GetString());
            var peak = p.GetProperty("pss_mb_peak").GetDouble();
            // A .NET process with libtorch loaded holds tens of MB at least, and none of these should reach gigabytes.
            Assert.InRange(peak, 20, 2_000);
            Assert.True(p.GetProperty("pss_mb_idle").GetDouble() > 0);
            // Alone, a process would hold every page it maps: its resident set is at least its proportional share.
            Assert.True(p.GetProperty("rss_mb_peak").GetDouble() >= peak, p.ToString());
            var b = p.GetProperty("breakdown");
            Assert.True(b.GetProperty("gc_heap_mb").GetDouble() > 0, p.ToString());
            Assert.True(b.GetProperty("threads").GetInt32() > 1, p.ToString());
            Assert.True(p.GetProperty("start_breakdown").GetProperty("gc_committed_mb").GetDouble() > 0, p.ToString());
            Assert.True(b.GetProperty("native_mb").GetDouble() + b.GetProperty("gc_committed_mb").GetDouble() + b.GetProperty("jit_code_mb").GetDouble()
                + b.GetProperty("libraries_mb").GetDouble() > 0.5 * peak, p.ToString());
        });
        Assert.Equal(10, roles.Single(p => p.GetProperty("role").GetString() == "trainer").GetProperty("processes").GetInt32());
        // The whole demo is at least the sum of one process of each role, and counts every process with the bench's own.
        Assert.True(r.GetProperty("demo_pss_mb_peak").GetDouble() > roles.Sum(p => p.GetProperty("pss_mb_idle").GetDouble()));
        Assert.Equal(15, r.GetProperty("demo_processes").GetInt32());
        Assert.True(r.TryGetProperty("targets_met", out _));
    }

    [Fact]
    public void The_proc_readers_agree_with_each_other_on_this_process()
    {
        var rollup = ProcMemory.Rollup(Environment.ProcessId);
        var maps = ProcMemory.Mappings(Environment.ProcessId);
        Assert.NotNull(rollup);
        Assert.NotNull(maps);
        var mapped = (maps.AnonymousPssBytes + maps.JitPssBytes + maps.FilePssBytes) / 1048576.0;
        // Read a moment apart, the two totals differ only by what the process allocated in between.
        Assert.InRange(mapped, rollup.PssMb * 0.8, rollup.PssMb * 1.25);
        Assert.True(maps.FilePssBytes > 0, "a .NET process maps its runtime's files");
        Assert.InRange(rollup.RssMb, rollup.PssMb, rollup.PssMb * 10);
        Assert.Null(ProcMemory.Rollup(int.MaxValue));
    }
}
