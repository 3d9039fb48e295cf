using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Skein.Market.Runtime;

/// <summary>
/// Runs workloads as local processes, detached from the provider (own session, parent init) so that they survive
/// its restart, with logs in a file and state in SQLite under <see cref="ProcessRuntimeOptions.StateDirectory"/>.
/// Images become commands through an <see cref="IImageResolver"/>. Disposing the runtime leaves workloads running.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class ProcessRuntime : IWorkloadRuntime, IDisposable
{
    private readonly ProcessRuntimeOptions _options;
    private readonly IImageResolver _images;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ProcessStore _store;
    private readonly SlotPool _cores;
    private readonly SlotPool _gpus;
    private readonly Lazy<CgroupV2> _cgroup;
    private readonly Lazy<CgroupV1> _v1;
    private readonly string? _setsid = ProcInfo.FindExecutable("setsid");
    private readonly string? _taskset = ProcInfo.FindExecutable("taskset");
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public ProcessRuntime(ProcessRuntimeOptions options, IImageResolver images, ILogger<ProcessRuntime>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(images);
        _options = options;
        _images = images;
        _log = logger ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(options.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _store = new ProcessStore(Path.Combine(options.StateDirectory, "runtime.db"));
        _cores = new SlotPool(options.CpuPool ?? ProcInfo.AllowedCpus(), exclusive: false);
        _gpus = new SlotPool(options.GpuPool, exclusive: true);
        _cgroup = new(() => options.UseCgroups ? CgroupV2.Probe(options.CgroupParent) : CgroupV2.Disabled("cgroups are turned off in the runtime's options"));
        _v1 = new(() => options.UseCgroups && options.UseCgroupV1Limits ? CgroupV1.Probe() : CgroupV1.Disabled("cgroup v1 limits are turned off in the runtime's options"));

        // Cores and GPUs of workloads that were running when the provider stopped stay theirs until they are seen to end.
        foreach (var row in _store.All().Where(r => r.IsLive))
        {
            _cores.Reserve(SlotPool.Parse(row.Cores));
            _gpus.Reserve(SlotPool.Parse(row.Gpus));
        }
    }

    public string Name => "process";

    public Task<RuntimeCapabilities> ProbeAsync(CancellationToken cancellationToken)
    {
        if (_setsid is null)
        {
            return Task.FromResult(RuntimeCapabilities.Unavailable(Name, "setsid (util-linux) not found: workloads cannot be detached"));
        }

        var cg = _cgroup.Value;
        var cores = SlotPool.Format(_cores.Slots);
        var affinity = _taskset is null
            ? Capability.No("cpu affinity not enforced: taskset (util-linux) not found")
            : Capability.Yes($"taskset pins each workload to ceil(cpu/1000) of cores {cores}, least used first");
        var v1 = _v1.Value;
        var memory = cg.Memory
            ? Capability.Yes($"memory.max in a cgroup per workload under {cg.Parent}")
            : v1.MemoryParent is not null
                ? Capability.Yes(v1.MemoryReason)
                : Capability.No($"memory limit not enforced: {cg.MissingReason("memory")}; {v1.MemoryReason}; .NET workloads still get DOTNET_GCHeapHardLimit");
        var quota = cg.Cpu
            ? Capability.Yes($"cpu.max in a cgroup per workload under {cg.Parent}")
            : v1.CpuParent is not null
                ? Capability.Yes(v1.CpuReason)
                : Capability.No($"cpu quota not enforced: {cg.MissingReason("cpu")}; {v1.CpuReason}");
        var gpu = _gpus.Slots.Count > 0
            ? Capability.Yes($"CUDA_VISIBLE_DEVICES from GPUs {SlotPool.Format(_gpus.Slots)}, each to one workload (visibility, not isolation)")
            : Capability.No("no GPUs configured for this runtime");
        var containment = cg.Parent is null
            ? $"no workload cgroups ({cg.Unusable}): stop signals the workload's process group and session"
            : $"each workload runs in its own cgroup under {cg.Parent}" + (cg.Kill ? "; stop kills its whole tree with cgroup.kill" : string.Empty);
        IReadOnlyList<string> notes =
        [
            containment,
            "storage limit not enforced: the process runtime has no disk quota",
            $"images: {string.Join(", ", _images.KnownImages)}",
        ];
        return Task.FromResult(new RuntimeCapabilities(Name, true, null, affinity, memory, quota, gpu, notes));
    }

    public async Task<WorkloadStatus> StartAsync(WorkloadSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        WorkloadId.Validate(spec.Id);
        using var held = await LockAsync(spec.Id, cancellationToken);
        if (_store.Get(spec.Id) is { } existing && Refresh(existing) is { IsLive: true } live)
        {
            return ToStatus(live);
        }

        if (!_images.TryResolve(spec.Image, out var image))
        {
            var known = _images.KnownImages.Count == 0 ? "none" : string.Join(", ", _images.KnownImages);
            return Refuse(spec.Id, $"image '{spec.Image}' cannot run under the process runtime: no container engine; known images: {known}");
        }

        if (_setsid is null)
        {
            throw new WorkloadRuntimeException("setsid (util-linux) not found: the process runtime cannot detach workloads", isTransient: false);
        }

        var gpus = _gpus.TryAcquire((int)spec.Resources.Gpus);
        if (gpus is null)
        {
            return Refuse(spec.Id, $"needs {spec.Resources.Gpus} GPU(s); {_gpus.Free} of {_gpus.Slots.Count} free");
        }

        var cores = spec.Resources.CpuMillis == 0 ? [] : _cores.TryAcquire(spec.Resources.WholeCores) ?? [];
        var cgroup = _cgroup.Value.Create(spec.Id, spec.Resources, out var cgroupError);
        var v1Problems = new List<string>();
        var v2Memory = cgroup is not null && _cgroup.Value.Memory;
        var v2Cpu = cgroup is not null && _cgroup.Value.Cpu;
        var limits = _v1.Value.Create(spec.Id, spec.Resources, memory: !v2Memory, cpu: !v2Cpu, v1Problems);
        var v1Memory = _v1.Value.MemoryParent is { } mp && limits.Any(l => l.StartsWith(mp, StringComparison.Ordinal));
        var v1Cpu = _v1.Value.CpuParent is { } cp && limits.Any(l => l.StartsWith(cp, StringComparison.Ordinal));
        var notes = LimitNotes(spec, image, cores, cgroup, cgroupError, v2Memory || v1Memory, v2Cpu || v1Cpu, v1Problems);
        var folder = new WorkloadFolder(_options.StateDirectory, spec.Id);
        folder.Prepare();
        folder.WriteSpec(spec);
        var row = new WorkloadRow(
            spec.Id, spec.Service, spec.Image, nameof(WorkloadState.Starting), null, null, _time.GetUtcNow().ToUnixTimeMilliseconds(), null, null,
            SlotPool.Format(cores), SlotPool.Format(gpus), cgroup, string.Join('\n', notes), null, 0, limits.Count == 0 ? null : string.Join(':', limits));
        _store.Put(row);

        var filter = new SecretFilter(spec.Env);
        var argv = image.CommandLine(spec);
        var env = WorkloadLauncher.Environment(_options.InheritedEnvironment, spec, image, gpus, folder.Work);
        var join = string.Join(':', new[] { cgroup }.Concat(limits).OfType<string>());
        var psi = WorkloadLauncher.StartInfo(_setsid, _taskset, cores, folder, join.Length == 0 ? null : join, argv, env);
        if (await LaunchAsync(psi, filter, cancellationToken) is { } launchError)
        {
            return ToStatus(Fail(row, launchError));
        }

        // The workload is running now whatever happens to this call: record its pid even if the caller gave up.
        if (!await Polling.UntilAsync(() => folder.ReadPid() is not null, _options.StartTimeout, _options.PollInterval, _time, CancellationToken.None))
        {
            return ToStatus(Fail(row, $"the workload did not report its pid within {_options.StartTimeout.TotalSeconds:0.#} s; see its log"));
        }

        var pid = folder.ReadPid()!.Value;
        row = Save(row with { State = nameof(WorkloadState.Running), Pid = pid, PidStart = (long?)ProcInfo.Read(pid)?.StartTicks });
        if (_log.IsEnabled(LogLevel.Information))
        {
            var commandLine = filter.Apply(argv);
            var described = SecretFilter.Describe(spec.Env);
            LogStarted(_log, spec.Id, spec.Image, pid, row.Cores.Length == 0 ? "any" : row.Cores, commandLine, described);
        }

        foreach (var note in notes)
        {
            LogLimitNote(_log, spec.Id, note);
        }

        return ToStatus(Refresh(row));
    }

    public async Task<WorkloadStatus?> GetStatusAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var held = await LockAsync(id, cancellationToken);
        return _store.Get(id) is { } row ? ToStatus(Refresh(row)) : null;
    }

    public async Task<IReadOnlyList<WorkloadStatus>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<WorkloadStatus>();
        foreach (var row in _store.All())
        {
            if (await GetStatusAsync(row.Id, cancellationToken) is { } status)
            {
                result.Add(status);
            }
        }

        return result;
    }

    public void Dispose()
    {
        _store.Dispose();
        foreach (var gate in _locks.Values)
        {
            gate.Dispose();
        }
    }

    private List<string> LimitNotes(WorkloadSpec spec, ResolvedImage image, IReadOnlyList<int> cores, string? cgroup, string? cgroupError,
        bool memoryLimited, bool cpuLimited, List<string> v1Problems)
    {
        var cg = _cgroup.Value;
        var v1 = _v1.Value;
        var r = spec.Resources;
        var notes = new List<string>();
        if (r.CpuMillis > 0 && _taskset is null)
        {
            notes.Add("cpu affinity not enforced: taskset (util-linux) not found");
        }
        else if (r.CpuMillis > 0 && cores.Count < r.WholeCores)
        {
            notes.Add($"cpu affinity: {r.WholeCores} cores asked, the pool has {cores.Count}");
        }

        if (r.MemoryBytes > 0 && !memoryLimited)
        {
            notes.Add($"memory limit not enforced: {cgroupError ?? cg.MissingReason("memory")}; {(v1Problems.Count > 0 ? v1Problems[0] : v1.MemoryReason)}"
                + (image.IsDotNet ? "; DOTNET_GCHeapHardLimit caps the .NET heap at 75% of it" : string.Empty));
        }

        if (r.CpuMillis > 0 && !cpuLimited)
        {
            notes.Add($"cpu quota not enforced: {cgroupError ?? cg.MissingReason("cpu")}; {(v1Problems.Count > 0 ? v1Problems[^1] : v1.CpuReason)}"
                + (cores.Count > 0 && _taskset is not null ? $"; pinned to cores {SlotPool.Format(cores)}" : string.Empty));
        }

        if (r.StorageBytes > 0)
        {
            notes.Add("storage limit not enforced: the process runtime has no disk quota");
        }

        return notes;
    }

    /// <summary>Runs setsid, which forks the workload off and returns at once; null on success, else why not.</summary>
    private static async Task<string?> LaunchAsync(ProcessStartInfo psi, SecretFilter filter, CancellationToken cancellationToken)
    {
        try
        {
            using var launcher = System.Diagnostics.Process.Start(psi);
            if (launcher is null)
            {
                return "setsid did not start";
            }

            await launcher.WaitForExitAsync(cancellationToken);
            return launcher.ExitCode == 0 ? null : $"setsid exited with {launcher.ExitCode}";
        }
        catch (Win32Exception e)
        {
            return filter.Apply($"cannot start the workload: {e.Message}");
        }
    }

    private WorkloadStatus Refuse(string id, string error)
    {
        LogStartRefused(_log, id, error);
        return WorkloadStatus.Failure(id, error);
    }

    private WorkloadRow Fail(WorkloadRow row, string error)
    {
        LogStartRefused(_log, row.Id, error);
        return Finish(row with { State = nameof(WorkloadState.Failed), Error = error }, fallbackExitCode: null);
    }

    private WorkloadRow Save(WorkloadRow row)
    {
        _store.Put(row);
        return row;
    }

    private async Task<Releaser> LockAsync(string id, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    private readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    private static WorkloadStatus ToStatus(WorkloadRow row) => new(
        row.Id,
        row.WorkloadState,
        (int?)row.ExitCode,
        (int?)row.Pid,
        row.StartedAtMs is { } started ? DateTimeOffset.FromUnixTimeMilliseconds(started) : null,
        row.NoteList,
        row.Error)
    {
        StoppedAt = row.StoppedAtMs is { } stopped ? DateTimeOffset.FromUnixTimeMilliseconds(stopped) : null,
    };
}
