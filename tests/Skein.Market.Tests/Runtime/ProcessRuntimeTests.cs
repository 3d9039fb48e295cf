using System.Globalization;
using System.Runtime.Versioning;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>What the process runtime does beyond the contract: detachment, affinity, environment, files, cgroups, process trees.</summary>
[SupportedOSPlatform("linux")]
public sealed class ProcessRuntimeTests : IDisposable
{
    private readonly ProcessTestState _state = new();
    private readonly List<ProcessRuntime> _runtimes = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var runtime in _runtimes)
        {
            runtime.Dispose();
        }

        _state.Dispose();
    }

    private ProcessRuntime Runtime(IReadOnlyList<int>? cpuPool = null, string? cgroupParent = null, bool cgroups = true)
    {
        var runtime = new ProcessRuntime(_state.Options(cpuPool, cgroupParent, cgroups), ProcessTestState.Images);
        _runtimes.Add(runtime);
        return runtime;
    }

    private static WorkloadSpec Sh(string script, WorkloadResources? resources = null, string image = "test/sh") =>
        new("p-" + Guid.NewGuid().ToString("N")[..12], "svc", image, [], [script], new Dictionary<string, string>(), resources ?? new(0, 0, 0, 0), new Dictionary<string, string>());

    private static async Task<WorkloadStatus> RunningAsync(ProcessRuntime runtime, WorkloadSpec spec)
    {
        await runtime.StartAsync(spec, Ct);
        return (await Eventually.Until(() => runtime.GetStatusAsync(spec.Id, Ct), s => s?.State == WorkloadState.Running, "running"))!;
    }

    private static async Task<string> OutputAsync(ProcessRuntime runtime, WorkloadSpec spec)
    {
        await runtime.StartAsync(spec, Ct);
        await Eventually.Until(() => runtime.GetStatusAsync(spec.Id, Ct), s => s?.State == WorkloadState.Exited, "exited");
        var lines = new List<string>();
        await foreach (var line in runtime.ReadLogsAsync(spec.Id, follow: false, Ct))
        {
            lines.Add(line);
        }

        return string.Join('\n', lines);
    }

    [Fact]
    public async Task Workload_runs_detached_in_a_session_and_group_of_its_own_with_no_pipe_to_the_provider()
    {
        // What a SIGKILLed provider could take with it: a shared session or group (hangup, group signals), or a pipe
        // (SIGPIPE, blocked writes). None of them is there, so the workload outlives it.
        var spec = Sh("sleep 120");
        var status = await RunningAsync(Runtime(), spec);

        var stat = ProcInfo.Read(status.Pid!.Value)!;
        var mine = ProcInfo.Read(Environment.ProcessId)!;
        Assert.Equal(stat.Pid, stat.Session);
        Assert.Equal(stat.Pid, stat.ProcessGroup);
        Assert.NotEqual(mine.Session, stat.Session);
        Assert.NotEqual(Environment.ProcessId, stat.ParentPid);
        var fd = $"/proc/{stat.Pid}/fd/";
        Assert.Equal("/dev/null", new FileInfo(fd + "0").LinkTarget);
        Assert.Equal(Path.Combine(_state.Directory, "workloads", spec.Id, "output.log"), new FileInfo(fd + "1").LinkTarget);
        Assert.Equal(new FileInfo(fd + "1").LinkTarget, new FileInfo(fd + "2").LinkTarget);
    }

    [Fact]
    public async Task Workload_that_ended_while_the_provider_was_away_reports_its_exit_code()
    {
        var before = Runtime();
        var spec = Sh("exit 5");
        await before.StartAsync(spec, Ct);
        before.Dispose();
        _runtimes.Remove(before);
        await Eventually.Until(() => File.Exists(Path.Combine(_state.Directory, "workloads", spec.Id, "exit_code")), "the wrapper to record the exit code");

        var adopted = await Runtime().AdoptAsync(Ct);

        var status = Assert.Single(adopted);
        Assert.Equal(WorkloadState.Exited, status.State);
        Assert.Equal(5, status.ExitCode);
    }

    [Fact]
    public async Task Workloads_are_pinned_to_the_least_used_cores_of_the_pool()
    {
        var pool = ProcInfo.AllowedCpus();
        if (pool.Count < 2)
        {
            Assert.Skip("needs two cores");
        }

        var runtime = Runtime([pool[0], pool[1]]);
        var one = await RunningAsync(runtime, Sh("sleep 120", new(1000, 0, 0, 0)));
        var two = await RunningAsync(runtime, Sh("sleep 120", new(800, 0, 0, 0)));
        var both = await RunningAsync(runtime, Sh("sleep 120", new(1500, 0, 0, 0)));

        var first = ProcInfo.CpusAllowedList(one.Pid!.Value);
        var second = ProcInfo.CpusAllowedList(two.Pid!.Value);
        Assert.Single(SlotPool.Parse(first));
        Assert.Single(SlotPool.Parse(second));
        Assert.NotEqual(first, second);
        Assert.Equal([pool[0], pool[1]], SlotPool.Parse(ProcInfo.CpusAllowedList(both.Pid!.Value)));
    }

    [Fact]
    public async Task State_folder_keeps_the_env_owner_only()
    {
        var runtime = Runtime();
        var spec = Sh("sleep 120") with { Env = new Dictionary<string, string> { ["DB_PASSWORD"] = "s3cret-value" } };
        await RunningAsync(runtime, spec);
        var folder = Path.Combine(_state.Directory, "workloads", spec.Id);
        const UnixFileMode ownerRw = UnixFileMode.UserRead | UnixFileMode.UserWrite;

        Assert.Equal(ownerRw, File.GetUnixFileMode(Path.Combine(folder, "spec.json")));
        Assert.Equal(ownerRw, File.GetUnixFileMode(Path.Combine(folder, "output.log")));
        Assert.Equal(ownerRw | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Equal(ownerRw | UnixFileMode.UserExecute, File.GetUnixFileMode(_state.Directory) & (UnixFileMode)0x1FF);
        Assert.Contains("s3cret-value", await File.ReadAllTextAsync(Path.Combine(folder, "spec.json"), Ct));
        Assert.DoesNotContain("s3cret-value", await File.ReadAllTextAsync(Path.Combine(_state.Directory, "runtime.db"), Ct));
    }

    [Fact]
    public async Task DotNet_workloads_get_three_quarters_of_their_memory_as_GC_heap_limit()
    {
        var runtime = Runtime();
        const string script = "echo \"gc=$DOTNET_GCHeapHardLimit\"";

        var dotnet = await OutputAsync(runtime, Sh(script, new(0, 1UL << 30, 0, 0), image: "test/dotnet-sh"));
        var other = await OutputAsync(runtime, Sh(script, new(0, 1UL << 30, 0, 0)));

        Assert.Equal("gc=0x30000000", dotnet);
        Assert.Equal("gc=", other);
    }

    [Fact]
    public async Task Workloads_see_only_their_own_env_not_the_providers()
    {
        Environment.SetEnvironmentVariable("SKEIN_TEST_PROVIDER_ONLY", "provider-secret");
        var spec = Sh("echo \"provider=${SKEIN_TEST_PROVIDER_ONLY:-none} id=$SKEIN_WORKLOAD_ID gpus=[$CUDA_VISIBLE_DEVICES] mode=$MODE path=${PATH:+set} home=$HOME pwd=$(pwd)\"")
            with { Env = new Dictionary<string, string> { ["MODE"] = "eval" } };

        var output = await OutputAsync(Runtime(), spec);

        var work = Path.Combine(_state.Directory, "workloads", spec.Id, "work");
        Assert.Equal($"provider=none id={spec.Id} gpus=[] mode=eval path=set home={work} pwd={work}", output);
    }

    [Fact]
    public async Task Unknown_image_error_names_the_images_the_runtime_knows()
    {
        var status = await Runtime().StartAsync(Sh("true", image: "nginx:1"), Ct);

        Assert.Equal(
            "image 'nginx:1' cannot run under the process runtime: no container engine; known images: test/dotnet-sh:latest, test/sh:latest",
            status.Error);
    }

    [Fact]
    public async Task Limits_the_probe_says_are_not_enforced_are_noted_on_the_workload()
    {
        var runtime = Runtime();
        var caps = await runtime.ProbeAsync(Ct);

        var status = await RunningAsync(runtime, Sh("sleep 120", new(500, 256UL << 20, 1UL << 30, 0)));

        Assert.Equal(!caps.MemoryLimit.Enforced, status.LimitNotes.Any(n => n.StartsWith("memory limit not enforced: ", StringComparison.Ordinal)));
        Assert.Equal(!caps.CpuQuota.Enforced, status.LimitNotes.Any(n => n.StartsWith("cpu quota not enforced: ", StringComparison.Ordinal)));
        Assert.Contains("storage limit not enforced: the process runtime has no disk quota", status.LimitNotes);
    }

    [Fact]
    public async Task Cgroup_limits_are_written_where_the_controllers_exist()
    {
        // A stand-in cgroup tree whose parent offers cpu and memory: what a writable cgroup v2 host looks like.
        var root = Path.Combine(_state.Directory, "fake-cgroup");
        var parent = Path.Combine(root, "skein");
        Directory.CreateDirectory(parent);
        foreach (var dir in new[] { root, parent })
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.controllers"), "cpu io memory pids\n");
            File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), string.Empty);
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), string.Empty);
        }

        var runtime = Runtime(cgroupParent: parent);
        var caps = await runtime.ProbeAsync(Ct);
        var spec = Sh("sleep 120", new(1500, 256UL << 20, 0, 0));
        var status = await RunningAsync(runtime, spec);

        Assert.True(caps.MemoryLimit.Enforced, caps.MemoryLimit.Detail);
        Assert.True(caps.CpuQuota.Enforced, caps.CpuQuota.Detail);
        Assert.Equal("+cpu +memory", File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")));
        var cgroup = Path.Combine(parent, spec.Id);
        Assert.Equal("268435456", File.ReadAllText(Path.Combine(cgroup, "memory.max")));
        Assert.Equal("150000 100000", File.ReadAllText(Path.Combine(cgroup, "cpu.max")));
        Assert.Equal(status.Pid!.Value.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(cgroup, "cgroup.procs")).Trim());
        Assert.Empty(status.LimitNotes);
    }

    [Fact]
    public async Task Workload_sits_in_its_own_cgroup_which_is_removed_when_it_stops()
    {
        if (_state.CgroupParent is null || !(await Runtime().ProbeAsync(Ct)).Notes[0].StartsWith("each workload runs in its own cgroup", StringComparison.Ordinal))
        {
            Assert.Skip("no writable cgroup v2 hierarchy here");
        }

        var runtime = Runtime();
        var spec = Sh("setsid sleep 120 & echo escaped=$!; sleep 120");
        var status = await RunningAsync(runtime, spec);
        var escaped = int.Parse((await Eventually.Until(() => LinesAsync(runtime, spec.Id), l => l.Any(x => x.StartsWith("escaped=", StringComparison.Ordinal)), "the escaped child"))
            .First(x => x.StartsWith("escaped=", StringComparison.Ordinal))["escaped=".Length..], CultureInfo.InvariantCulture);
        var cgroup = Path.Combine(_state.CgroupParent, spec.Id);

        Assert.Contains($"0::/{Path.GetFileName(_state.CgroupParent)}/{spec.Id}", File.ReadAllText($"/proc/{status.Pid}/cgroup"));
        await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);

        Assert.False(Directory.Exists(cgroup));
        Assert.True(ProcInfo.Read(escaped) is null or { HasEnded: true }, "a child that left the session still died with the workload's cgroup");
    }

    [Fact]
    public async Task Children_that_ignore_SIGTERM_die_with_the_workload_even_without_cgroups()
    {
        var runtime = Runtime(cgroups: false);
        var spec = Sh("(trap '' TERM; exec sleep 120) & echo child=$!; wait");
        await RunningAsync(runtime, spec);
        var child = int.Parse((await Eventually.Until(() => LinesAsync(runtime, spec.Id), l => l.Any(x => x.StartsWith("child=", StringComparison.Ordinal)), "the child"))
            .First(x => x.StartsWith("child=", StringComparison.Ordinal))["child=".Length..], CultureInfo.InvariantCulture);

        var stopped = await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(WorkloadState.Exited, stopped.State);
        Assert.True(ProcInfo.Read(child) is null or { HasEnded: true }, "the SIGTERM-deaf child was left running");
    }

    [Fact]
    public void A_recycled_pid_is_not_taken_for_the_workload()
    {
        var me = ProcInfo.Read(Environment.ProcessId)!;

        Assert.True(ProcInfo.IsAlive(me.Pid, me.StartTicks));
        Assert.False(ProcInfo.IsAlive(me.Pid, me.StartTicks + 1));
    }

    [Fact]
    public void Stat_lines_parse_with_spaces_and_parentheses_in_the_name()
    {
        var line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1234 56";

        var stat = ProcInfo.Parse(line);

        Assert.Equal(new ProcStat(4242, 'S', 1, 4242, 4242, 987654), stat);
    }

    private static async Task<List<string>> LinesAsync(ProcessRuntime runtime, string id)
    {
        var lines = new List<string>();
        await foreach (var line in runtime.ReadLogsAsync(id, follow: false, Ct))
        {
            lines.Add(line);
        }

        return lines;
    }
}
