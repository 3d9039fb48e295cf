using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Skein.Market.Runtime;

public sealed partial class ProcessRuntime
{
    // After SIGKILL the kernel needs a moment to tear a process down; waiting longer means something is badly wrong.
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    public async Task<WorkloadStatus> StopAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var held = await LockAsync(id, cancellationToken);
        var row = _store.Get(id) ?? throw WorkloadNotFoundException.For(Name, id);
        return ToStatus(await StopCoreAsync(row, grace, cancellationToken));
    }

    public async Task<WorkloadStatus> RestartAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_store.Get(id) is null)
        {
            throw WorkloadNotFoundException.For(Name, id);
        }

        var spec = new WorkloadFolder(_options.StateDirectory, id).ReadSpec()
            ?? throw new WorkloadRuntimeException($"the spec of workload '{id}' is missing from its folder; start it again with its spec", isTransient: false);
        return await StartAsync(spec, cancellationToken);
    }

    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var held = await LockAsync(id, cancellationToken);
        if (_store.Get(id) is not { } row)
        {
            return;
        }

        row = await StopCoreAsync(row, TimeSpan.Zero, cancellationToken);
        if (row.Cgroup is { } cgroup && !CgroupV2.TryRemove(cgroup))
        {
            LogCgroupLeft(_log, id, cgroup);
        }
        foreach (var left in CgroupV1.RemoveEmpty(row.LimitCgroupList))
        {
            LogCgroupLeft(_log, id, left);
        }

        var folder = new WorkloadFolder(_options.StateDirectory, id);
        if (Directory.Exists(folder.Root))
        {
            Directory.Delete(folder.Root, recursive: true);
        }

        _store.Delete(id);
        LogRemoved(_log, id);
    }

    public async Task<IReadOnlyList<WorkloadStatus>> AdoptAsync(CancellationToken cancellationToken)
    {
        var result = new List<WorkloadStatus>();
        foreach (var id in _store.All().Select(r => r.Id))
        {
            using var held = await LockAsync(id, cancellationToken);
            if (_store.Get(id) is not { } row)
            {
                continue;
            }

            var wasLive = row.IsLive;
            row = Refresh(row);
            if (wasLive && row.IsLive)
            {
                LogAdopted(_log, id, row.Pid ?? 0);
            }
            else if (wasLive && _log.IsEnabled(LogLevel.Warning))
            {
                var shown = row.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
                LogFoundEnded(_log, id, shown);
            }

            result.Add(ToStatus(row) with { Adopted = wasLive && row.IsLive });
        }

        return result;
    }

    private async Task<WorkloadRow> StopCoreAsync(WorkloadRow row, TimeSpan grace, CancellationToken cancellationToken)
    {
        row = Refresh(row);
        if (!row.IsLive)
        {
            return row;
        }

        row = Save(row with { StopRequested = 1 });
        if (row.Pid is null)
        {
            // Still starting: its wrapper has not published its pid yet; without one there is nothing to signal.
            var folder = new WorkloadFolder(_options.StateDirectory, row.Id);
            await Polling.UntilAsync(() => folder.ReadPid() is not null, _options.StartTimeout, _options.PollInterval, _time, cancellationToken);
            row = Refresh(row);
            if (!row.IsLive || row.Pid is null)
            {
                return row.IsLive ? Finish(row with { Error = "stopped before it reported its pid" }, fallbackExitCode: null) : row;
            }
        }

        var pid = (int)row.Pid;
        var start = (ulong)(row.PidStart ?? 0);
        bool Alive() => ProcInfo.IsAlive(pid, start);
        LogStopping(_log, row.Id, pid, grace.TotalSeconds);

        // setsid made the wrapper the leader of its group: one signal reaches the wrapper and the workload's tree.
        Signals.ToGroup(pid, Signals.SIGTERM);
        var fallback = 128 + Signals.SIGTERM;
        if (!await Polling.UntilAsync(() => !Alive(), grace, _options.PollInterval, _time, cancellationToken))
        {
            LogKilling(_log, row.Id, grace.TotalSeconds);
            KillTree(row, pid, start);
            fallback = 128 + Signals.SIGKILL;
            await Polling.UntilAsync(() => !Alive(), KillWait, _options.PollInterval, _time, cancellationToken);
        }

        // Finish SIGKILLs what the workload left behind; signals land asynchronously, so wait until the tree is gone
        // (and its cgroup empty: only then can it be removed) before calling the stop done.
        row = Finish(row, fallback);
        var cgroup = row.Cgroup;
        await Polling.UntilAsync(
            () => ProcInfo.SessionMembers(pid, start).Count == 0 && (cgroup is null || CgroupV2.IsEmpty(cgroup)),
            KillWait,
            _options.PollInterval,
            _time,
            cancellationToken);
        return Refresh(row);
    }

    /// <summary>SIGKILL to everything the workload started: its cgroup, its session, and its process group.</summary>
    private static void KillTree(WorkloadRow row, int pid, ulong start)
    {
        if (row.Cgroup is { } cgroup)
        {
            CgroupV2.KillAll(cgroup);
        }

        foreach (var member in ProcInfo.SessionMembers(pid, start))
        {
            Signals.ToProcess(member.Pid, Signals.SIGKILL);
        }

        // Only while the leader is verifiably ours: a group id is a pid, and pids are recycled.
        if (ProcInfo.IsAlive(pid, start))
        {
            Signals.ToGroup(pid, Signals.SIGKILL);
        }
    }

    /// <summary>Brings a live row up to date: picks up a pid published after a crash, and finishes a workload that ended.</summary>
    private WorkloadRow Refresh(WorkloadRow row)
    {
        if (!row.IsLive)
        {
            // A cgroup that still held a dying process at the last look can go now.
            if (row.Cgroup is { } leftover && CgroupV2.TryRemove(leftover))
            {
                row = Save(row with { Cgroup = null });
            }
            if (row.LimitCgroupList.Count > 0)
            {
                var left = CgroupV1.RemoveEmpty(row.LimitCgroupList);
                if (left.Count < row.LimitCgroupList.Count)
                {
                    row = Save(row with { LimitCgroups = left.Count == 0 ? null : string.Join(':', left) });
                }
            }

            return row;
        }

        if (row.Pid is null)
        {
            var folder = new WorkloadFolder(_options.StateDirectory, row.Id);
            if (folder.ReadPid() is not { } pid)
            {
                var started = DateTimeOffset.FromUnixTimeMilliseconds(row.StartedAtMs ?? 0);
                return _time.GetUtcNow() - started > _options.StartTimeout
                    ? Finish(row with { State = nameof(WorkloadState.Failed), Error = "the workload never reported its pid; see its log" }, fallbackExitCode: null)
                    : row;
            }

            row = Save(row with { State = nameof(WorkloadState.Running), Pid = pid, PidStart = (long?)ProcInfo.Read(pid)?.StartTicks });
        }

        // The exit code is written when the workload ends, a moment before its wrapper exits: either means it has ended.
        var alive = row.PidStart is { } start && ProcInfo.IsAlive((int)row.Pid!, (ulong)start);
        return alive && !File.Exists(new WorkloadFolder(_options.StateDirectory, row.Id).ExitCodeFile) ? row : Finish(row, fallbackExitCode: null);
    }

    /// <summary>
    /// Records the end of a workload: its exit code (from its wrapper, else <paramref name="fallbackExitCode"/>: the
    /// shell's 128+signal for a wrapper we had to signal), kills what it left behind, frees its cores, GPUs and cgroup.
    /// </summary>
    private WorkloadRow Finish(WorkloadRow row, int? fallbackExitCode)
    {
        var folder = new WorkloadFolder(_options.StateDirectory, row.Id);
        var code = folder.ReadExitCode() ?? fallbackExitCode;
        if (row.Pid is { } pid && row.PidStart is { } start)
        {
            // Like a container whose main process ends, nothing it started outlives it (daemons, stray children).
            KillTree(row, (int)pid, (ulong)start);
        }

        var cgroup = row.Cgroup;
        if (cgroup is not null && CgroupV2.TryRemove(cgroup))
        {
            cgroup = null;
        }
        var limits = CgroupV1.RemoveEmpty(row.LimitCgroupList);

        _cores.Release(SlotPool.Parse(row.Cores));
        _gpus.Release(SlotPool.Parse(row.Gpus));
        var failed = row.WorkloadState == WorkloadState.Failed;
        var error = row.Error ?? (code is null && !failed ? "ended without an exit code: its wrapper was killed too" : null);
        row = Save(row with
        {
            State = failed ? nameof(WorkloadState.Failed) : nameof(WorkloadState.Exited),
            ExitCode = code,
            StoppedAtMs = (folder.ExitTime() ?? _time.GetUtcNow()).ToUnixTimeMilliseconds(),
            Cgroup = cgroup,
            LimitCgroups = limits.Count == 0 ? null : string.Join(':', limits),
            Error = error,
        });
        if (!failed && _log.IsEnabled(LogLevel.Information))
        {
            var shown = code?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
            LogExited(_log, row.Id, shown);
        }

        return row;
    }
}
