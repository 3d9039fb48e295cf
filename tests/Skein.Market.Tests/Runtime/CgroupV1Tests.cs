using System.Globalization;
using System.Runtime.Versioning;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>Memory and CPU limits through cgroup v1 where the v2 hierarchy lacks those controllers (hybrid hosts).</summary>
[SupportedOSPlatform("linux")]
public sealed class CgroupV1Tests : IDisposable
{
    private readonly ProcessTestState _state = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _state.Dispose();

    [Fact]
    public void The_limits_are_written_into_the_v1_memory_and_cpu_hierarchies()
    {
        // A stand-in of a hybrid host: v1 memory and cpu hierarchies mounted, as /proc/self/mountinfo lists them.
        var root = Path.Combine(_state.Directory, "fake-v1");
        foreach (var (name, file) in new[] { ("memory", "memory.limit_in_bytes"), ("cpu", "cpu.cfs_quota_us") })
        {
            Directory.CreateDirectory(Path.Combine(root, name, "skein"));
            File.WriteAllText(Path.Combine(root, name, "skein", file), "-1");
        }
        var mountInfo = Path.Combine(_state.Directory, "mountinfo");
        File.WriteAllLines(mountInfo,
        [
            $"31 30 0:28 / {root}/cpu rw,relatime - cgroup cgroup rw,cpu",
            $"34 30 0:31 / {root}/memory rw,relatime - cgroup cgroup rw,memory",
            "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
        ]);
        var v1 = CgroupV1.Probe(mountInfo);
        Assert.Equal(Path.Combine(root, "memory", "skein"), v1.MemoryParent);
        Assert.Equal(Path.Combine(root, "cpu", "skein"), v1.CpuParent);

        var problems = new List<string>();
        var made = v1.Create("w1", new WorkloadResources(1_500, 256UL << 20, 0, 0), memory: true, cpu: true, problems);
        Assert.Empty(problems);
        Assert.Equal([Path.Combine(root, "memory", "skein", "w1"), Path.Combine(root, "cpu", "skein", "w1")], made);
        Assert.Equal("268435456", File.ReadAllText(Path.Combine(made[0], "memory.limit_in_bytes")));
        Assert.Equal("150000", File.ReadAllText(Path.Combine(made[1], "cpu.cfs_quota_us")));
        Assert.Equal("100000", File.ReadAllText(Path.Combine(made[1], "cpu.cfs_period_us")));

        // Only what v2 does not already limit.
        Assert.Single(v1.Create("w2", new WorkloadResources(1_500, 256UL << 20, 0, 0), memory: false, cpu: true, problems));
        Assert.Contains("no cgroup v1 memory hierarchy is mounted", CgroupV1.Probe(Path.Combine(_state.Directory, "nothing")).MemoryReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workload_that_outgrows_its_memory_is_killed_where_v1_enforces_it()
    {
        using var runtime = new ProcessRuntime(_state.Options(), ProcessTestState.Images);
        var caps = await runtime.ProbeAsync(Ct);
        if (!caps.MemoryLimit.Enforced || !caps.MemoryLimit.Detail.Contains("cgroup v1", StringComparison.Ordinal))
        {
            Assert.Skip($"memory is not limited through cgroup v1 here: {caps.MemoryLimit.Detail}");
        }

        // tail keeps a line it has not seen the end of: 200 MB without a newline, in a 64 MiB cgroup.
        var spec = new WorkloadSpec("oom-" + Guid.NewGuid().ToString("N")[..8], "hog", "test/sh", [], ["head -c 200000000 /dev/zero | tail -n 1 > /dev/null; echo tail=$?"],
            new Dictionary<string, string>(), new WorkloadResources(1_000, 64UL << 20, 0, 0), new Dictionary<string, string>());
        var started = await runtime.StartAsync(spec, Ct);
        Assert.DoesNotContain(started.LimitNotes, n => n.StartsWith("memory limit not enforced", StringComparison.Ordinal));
        var memoryCgroup = Path.Combine("/sys/fs/cgroup/memory/skein", spec.Id);
        Assert.Equal((64UL << 20).ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(memoryCgroup, "memory.limit_in_bytes")).Trim());

        var ended = await Eventually.Until(() => runtime.GetStatusAsync(spec.Id, Ct), s => s is { State: WorkloadState.Exited }, "the hog to end");
        var lines = new List<string>();
        await foreach (var line in runtime.ReadLogsAsync(spec.Id, follow: false, Ct))
        {
            lines.Add(line);
        }
        // The kernel's OOM killer took the hog (SIGKILL: 128 + 9); the shell, small, went on.
        Assert.Contains("tail=137", lines);
        Assert.Equal(0, ended!.ExitCode);
        await runtime.RemoveAsync(spec.Id, Ct);
        Assert.False(Directory.Exists(memoryCgroup));
    }
}
