namespace Skein.Market.Runtime;

/// <summary>Where a workload is in its life.</summary>
public enum WorkloadState
{
    /// <summary>Asked to start; no process (or container) is known yet.</summary>
    Starting,

    /// <summary>Its process (or container) runs.</summary>
    Running,

    /// <summary>It ended, by itself or because it was stopped; <see cref="WorkloadStatus.ExitCode"/> holds its code when known.</summary>
    Exited,

    /// <summary>It could not be started; <see cref="WorkloadStatus.Error"/> says why.</summary>
    Failed,

    /// <summary>The runtime cannot tell.</summary>
    Unknown,
}

/// <summary>
/// What a runtime knows of one workload. <see cref="LimitNotes"/> name every requested limit the runtime does not
/// enforce here and why, e.g. "memory limit not enforced: cgroup v2 not writable here".
/// </summary>
public sealed record WorkloadStatus(
    string Id,
    WorkloadState State,
    int? ExitCode,
    int? Pid,
    DateTimeOffset? StartedAt,
    IReadOnlyList<string> LimitNotes,
    string? Error)
{
    /// <summary>When it ended, if it did and the runtime knows.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>True when the runtime found this workload still running after a restart and watches it again.</summary>
    public bool Adopted { get; init; }

    /// <summary>The status of something that could not start.</summary>
    public static WorkloadStatus Failure(string id, string error) => new(id, WorkloadState.Failed, null, null, null, [], error);
}
