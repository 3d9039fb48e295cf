using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>
/// What every <see cref="IWorkloadRuntime"/> must do, run against each implementation (as System.Threading.Channels'
/// ChannelTestBase is). Workloads are /bin/sh scripts of the image "test/sh", whose entrypoint is <c>/bin/sh -c</c>.
/// </summary>
[SupportedOSPlatform("linux")]
public abstract class WorkloadRuntimeContractTests : IAsyncLifetime
{
    /// <summary>Long enough for any test, short enough that a workload leaked by a crashed test run ends by itself.</summary>
    protected const string Sleep = "sleep 120";

    private readonly List<IWorkloadRuntime> _runtimes = [];
    private readonly ILoggerFactory _loggers;

    protected WorkloadRuntimeContractTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
    }

    protected CapturingLoggerProvider Logs { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A runtime over this test's state; a second one is the provider after a restart.</summary>
    protected abstract IWorkloadRuntime CreateRuntime(ILoggerFactory loggers);

    /// <summary>Kills the workload's processes without the runtime's knowledge (an OOM kill, an operator's kill -9).</summary>
    protected abstract Task KillBehindTheBackAsync(string id);

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var runtime in _runtimes)
        {
            try
            {
                foreach (var status in await runtime.ListAsync(CancellationToken.None))
                {
                    await runtime.RemoveAsync(status.Id, CancellationToken.None);
                }
            }
            catch (WorkloadRuntimeException)
            {
                // The derived fixture kills whatever is left.
            }

            (runtime as IDisposable)?.Dispose();
        }

        _loggers.Dispose();
        GC.SuppressFinalize(this);
    }

    protected IWorkloadRuntime NewRuntime()
    {
        var runtime = CreateRuntime(_loggers);
        _runtimes.Add(runtime);
        return runtime;
    }

    /// <summary>Drops a runtime as a provider that restarts would: its workloads stay as they are.</summary>
    protected void Retire(IWorkloadRuntime runtime)
    {
        _runtimes.Remove(runtime);
        (runtime as IDisposable)?.Dispose();
    }

    protected static string NewId() => "t-" + Guid.NewGuid().ToString("N")[..12];

    protected static WorkloadSpec Sh(string script, IReadOnlyDictionary<string, string>? env = null, WorkloadResources? resources = null, string image = "test/sh") =>
        new(NewId(), "svc", image, [], [script], env ?? new Dictionary<string, string>(), resources ?? new WorkloadResources(0, 0, 0, 0), new Dictionary<string, string>());

    protected static Task<List<string>> LogLinesAsync(IWorkloadRuntime runtime, string id) => ReadAllAsync(runtime, id, follow: false, Ct);

    protected static async Task<List<string>> ReadAllAsync(IWorkloadRuntime runtime, string id, bool follow, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        await foreach (var line in runtime.ReadLogsAsync(id, follow, cancellationToken))
        {
            lines.Add(line);
        }

        return lines;
    }

    protected static Task<WorkloadStatus?> ExitedAsync(IWorkloadRuntime runtime, string id) =>
        Eventually.Until(() => runtime.GetStatusAsync(id, Ct), s => s?.State is WorkloadState.Exited, $"workload {id} to exit");

    protected static Task<List<string>> LogHasAsync(IWorkloadRuntime runtime, string id, string line) =>
        Eventually.Until(() => LogLinesAsync(runtime, id), l => l.Contains(line), $"'{line}' in the log of {id}");

    [Fact]
    public async Task Started_workload_runs_and_its_log_has_its_line()
    {
        var runtime = NewRuntime();
        var spec = Sh($"echo hello from the workload; {Sleep}");

        var started = await runtime.StartAsync(spec, Ct);

        Assert.Equal(spec.Id, started.Id);
        Assert.Contains(started.State, new[] { WorkloadState.Starting, WorkloadState.Running });
        var running = await Eventually.Until(() => runtime.GetStatusAsync(spec.Id, Ct), s => s?.State == WorkloadState.Running, "running");
        Assert.NotNull(running!.StartedAt);
        Assert.Null(running.ExitCode);
        await LogHasAsync(runtime, spec.Id, "hello from the workload");
        Assert.Contains(await runtime.ListAsync(Ct), s => s.Id == spec.Id);
    }

    [Fact]
    public async Task Stopped_workload_is_reported_exited()
    {
        var runtime = NewRuntime();
        var spec = Sh($"echo up; {Sleep}");
        await runtime.StartAsync(spec, Ct);
        await LogHasAsync(runtime, spec.Id, "up");

        var stopped = await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(WorkloadState.Exited, stopped.State);
        Assert.NotNull(stopped.ExitCode);
        Assert.Equal(WorkloadState.Exited, (await runtime.GetStatusAsync(spec.Id, Ct))!.State);
        Assert.Contains("up", await LogLinesAsync(runtime, spec.Id));
    }

    [Fact]
    public async Task Workload_that_ignores_SIGTERM_is_killed_after_the_grace()
    {
        var runtime = NewRuntime();
        var spec = Sh($"trap '' TERM; echo stubborn; {Sleep}");
        await runtime.StartAsync(spec, Ct);
        await LogHasAsync(runtime, spec.Id, "stubborn");

        var stopped = await runtime.StopAsync(spec.Id, TimeSpan.FromMilliseconds(200), Ct);

        Assert.Equal(WorkloadState.Exited, stopped.State);
        Assert.Equal(137, stopped.ExitCode);
    }

    [Fact]
    public async Task Stopping_twice_is_harmless()
    {
        var runtime = NewRuntime();
        var spec = Sh(Sleep);
        await runtime.StartAsync(spec, Ct);

        var first = await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);
        var second = await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(WorkloadState.Exited, first.State);
        Assert.Equal(WorkloadState.Exited, second.State);
        Assert.Equal(first.ExitCode, second.ExitCode);
    }

    [Fact]
    public async Task Workload_that_exits_with_3_is_reported_exited_with_3()
    {
        var runtime = NewRuntime();
        var spec = Sh("echo bye; exit 3");

        await runtime.StartAsync(spec, Ct);

        var status = await ExitedAsync(runtime, spec.Id);
        Assert.Equal(3, status!.ExitCode);
        Assert.Null(status.Error);
        Assert.NotNull(status.StoppedAt);
    }

    [Fact]
    public async Task Following_logs_yields_lines_as_they_come_and_ends_with_the_workload()
    {
        var runtime = NewRuntime();
        var spec = Sh("echo one; sleep 0.3; echo two >&2; sleep 0.3; printf 'three'");
        await runtime.StartAsync(spec, Ct);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(Eventually.DefaultTimeout);

        var lines = await ReadAllAsync(runtime, spec.Id, follow: true, bound.Token);

        Assert.Equal(["one", "two", "three"], lines);
        Assert.False(bound.IsCancellationRequested);
        Assert.Equal(WorkloadState.Exited, (await runtime.GetStatusAsync(spec.Id, Ct))!.State);
    }

    [Fact]
    public async Task Following_logs_ends_when_the_token_fires()
    {
        var runtime = NewRuntime();
        var spec = Sh($"echo first; {Sleep}");
        await runtime.StartAsync(spec, Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var seen = new List<string>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var line in runtime.ReadLogsAsync(spec.Id, follow: true, cts.Token))
            {
                seen.Add(line);
                await cts.CancelAsync();
            }
        });

        Assert.Equal(["first"], seen);
        Assert.Equal(WorkloadState.Running, (await runtime.GetStatusAsync(spec.Id, Ct))!.State);
    }

    [Fact]
    public async Task Unknown_id_has_no_status_and_the_calls_that_need_one_say_so()
    {
        var runtime = NewRuntime();

        Assert.Null(await runtime.GetStatusAsync("no-such-workload", Ct));
        var stop = await Assert.ThrowsAsync<WorkloadNotFoundException>(() => runtime.StopAsync("no-such-workload", TimeSpan.Zero, Ct));
        Assert.Contains("no-such-workload", stop.Message);
        await Assert.ThrowsAsync<WorkloadNotFoundException>(() => LogLinesAsync(runtime, "no-such-workload"));
        await Assert.ThrowsAsync<WorkloadNotFoundException>(() => runtime.RestartAsync("no-such-workload", Ct));
        await runtime.RemoveAsync("no-such-workload", Ct);
    }

    [Fact]
    public async Task Unknown_image_fails_with_a_clear_error()
    {
        var runtime = NewRuntime();
        var spec = Sh("true", image: "nginx:1");

        var status = await runtime.StartAsync(spec, Ct);

        Assert.Equal(WorkloadState.Failed, status.State);
        Assert.Contains("'nginx:1'", status.Error);
    }

    [Fact]
    public async Task Secrets_in_the_env_never_show_in_logs_statuses_or_descriptions()
    {
        const string password = "hunter2-correct-horse";
        var runtime = NewRuntime();
        var env = new Dictionary<string, string> { ["DB_PASSWORD"] = password, ["api_token"] = "tok-0123456789", ["MODE"] = "train" };
        var spec = Sh($"echo \"pw=$DB_PASSWORD token=$api_token mode=$MODE\"; {Sleep}", env);

        var started = await runtime.StartAsync(spec, Ct);
        var lines = await LogHasAsync(runtime, spec.Id, "pw=*** token=*** mode=train");
        var stopped = await runtime.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct);
        var listed = await runtime.ListAsync(Ct);

        string[] told = [started.ToString(), stopped.ToString(), .. listed.Select(s => s.ToString()), .. started.LimitNotes, spec.ToString(), .. lines, Logs.All];
        Assert.DoesNotContain(told, t => t.Contains(password, StringComparison.Ordinal) || t.Contains("tok-0123456789", StringComparison.Ordinal));
        Assert.Contains("DB_PASSWORD=***", spec.ToString());
        Assert.Contains("MODE=train", spec.ToString());
        Assert.NotEmpty(Logs.Entries);
    }

    [Fact]
    public async Task Starting_a_running_workload_again_leaves_it_as_it_is()
    {
        var runtime = NewRuntime();
        var spec = Sh($"echo once; {Sleep}");
        await runtime.StartAsync(spec, Ct);
        var first = await Eventually.Until(() => runtime.GetStatusAsync(spec.Id, Ct), s => s?.State == WorkloadState.Running, "running");

        var again = await runtime.StartAsync(spec, Ct);

        Assert.Equal(WorkloadState.Running, again.State);
        Assert.Equal(first!.Pid, again.Pid);
        Assert.Single(await LogHasAsync(runtime, spec.Id, "once"), l => l == "once");
    }

    [Fact]
    public async Task Restart_runs_an_exited_workload_again_from_its_kept_spec()
    {
        var runtime = NewRuntime();
        var spec = Sh("echo \"run with $MODE\"; exit 3", new Dictionary<string, string> { ["MODE"] = "kept" });
        await runtime.StartAsync(spec, Ct);
        await ExitedAsync(runtime, spec.Id);

        await runtime.RestartAsync(spec.Id, Ct);

        await Eventually.Until(() => LogLinesAsync(runtime, spec.Id), l => l.Count(x => x == "run with kept") == 2, "a second run in the log");
        Assert.Equal(3, (await ExitedAsync(runtime, spec.Id))!.ExitCode);
    }

    [Fact]
    public async Task Removed_workload_is_forgotten()
    {
        var runtime = NewRuntime();
        var spec = Sh(Sleep);
        await runtime.StartAsync(spec, Ct);

        await runtime.RemoveAsync(spec.Id, Ct);

        Assert.Null(await runtime.GetStatusAsync(spec.Id, Ct));
        Assert.DoesNotContain(await runtime.ListAsync(Ct), s => s.Id == spec.Id);
    }

    [Fact]
    public async Task Adopt_after_a_restart_finds_the_running_workload_and_can_stop_it()
    {
        var before = NewRuntime();
        var spec = Sh($"echo still here; {Sleep}");
        await before.StartAsync(spec, Ct);
        var pid = (await Eventually.Until(() => before.GetStatusAsync(spec.Id, Ct), s => s?.State == WorkloadState.Running, "running"))!.Pid;
        Retire(before);

        var after = NewRuntime();
        var adopted = await after.AdoptAsync(Ct);

        var mine = Assert.Single(adopted, s => s.Id == spec.Id);
        Assert.Equal(WorkloadState.Running, mine.State);
        Assert.True(mine.Adopted);
        Assert.Equal(pid, mine.Pid);
        await LogHasAsync(after, spec.Id, "still here");
        Assert.Equal(WorkloadState.Exited, (await after.StopAsync(spec.Id, TimeSpan.FromSeconds(10), Ct)).State);
    }

    [Fact]
    public async Task Workload_killed_behind_the_runtimes_back_is_reported_exited_on_adopt()
    {
        var before = NewRuntime();
        var spec = Sh($"echo doomed; {Sleep}");
        await before.StartAsync(spec, Ct);
        await LogHasAsync(before, spec.Id, "doomed");
        Retire(before);

        await KillBehindTheBackAsync(spec.Id);
        var after = NewRuntime();
        var adopted = await after.AdoptAsync(Ct);

        var mine = Assert.Single(adopted, s => s.Id == spec.Id);
        Assert.Equal(WorkloadState.Exited, mine.State);
        Assert.False(mine.Adopted);
        Assert.Contains("doomed", await LogLinesAsync(after, spec.Id));
    }

    [Fact]
    public async Task Probe_names_the_runtime_and_gives_a_reason_for_every_limit_it_cannot_enforce()
    {
        var runtime = NewRuntime();

        var caps = await runtime.ProbeAsync(Ct);

        Assert.Equal(runtime.Name, caps.Runtime);
        Assert.True(caps.Available, caps.UnavailableReason);
        Assert.All([caps.CpuAffinity, caps.MemoryLimit, caps.CpuQuota, caps.Gpu], c => Assert.False(string.IsNullOrWhiteSpace(c.Detail)));
    }
}
