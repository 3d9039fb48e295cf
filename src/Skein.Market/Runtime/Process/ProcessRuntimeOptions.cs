namespace Skein.Market.Runtime;

/// <summary>Where the process runtime keeps its state and which of the machine's resources it hands out.</summary>
public sealed class ProcessRuntimeOptions
{
    /// <summary>The runtime's own folder: runtime.db (SQLite, WAL) and workloads/&lt;id&gt;/ (log, spec, pid, exit code, work/).</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Cores workloads are pinned to; null: the cores this process may run on.</summary>
    public IReadOnlyList<int>? CpuPool { get; init; }

    /// <summary>GPU indices handed out exclusively, through CUDA_VISIBLE_DEVICES; empty: none.</summary>
    public IReadOnlyList<int> GpuPool { get; init; } = [];

    /// <summary>Whether to put each workload in a cgroup of its own (limits where the controllers exist, tree containment).</summary>
    public bool UseCgroups { get; init; } = true;

    /// <summary>The cgroup v2 folder workload cgroups go under; null: "skein" at the root of the cgroup v2 mount.</summary>
    public string? CgroupParent { get; init; }

    /// <summary>
    /// Where the v2 hierarchy lacks the memory or cpu controller (bound to cgroup v1, as on hybrid hosts), enforce
    /// those limits through the v1 hierarchies instead. Only with <see cref="UseCgroups"/>.
    /// </summary>
    public bool UseCgroupV1Limits { get; init; } = true;

    /// <summary>Variables passed from the provider's environment to every workload; nothing else of it is (it may hold the provider's own secrets).</summary>
    public IReadOnlyList<string> InheritedEnvironment { get; init; } = ["PATH", "LANG", "LC_ALL", "TZ", "DOTNET_ROOT"];

    /// <summary>How long a workload's wrapper may take to report its pid before the start counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often liveness and log files are polled while waiting.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(25);
}
