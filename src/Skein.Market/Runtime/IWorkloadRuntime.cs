namespace Skein.Market.Runtime;

/// <summary>How a provider runs the services of its leases: start, watch, read logs, stop, and re-adopt after a restart.</summary>
/// <remarks>
/// Expected outcomes (an image this runtime cannot run, a command that does not start) come back as a
/// <see cref="WorkloadStatus"/> in state <see cref="WorkloadState.Failed"/> with an <see cref="WorkloadStatus.Error"/>.
/// An id the runtime does not know is a caller bug (<see cref="WorkloadNotFoundException"/>), and a broken runtime
/// (no engine, an unwritable state folder) is a <see cref="WorkloadRuntimeException"/>. Nothing a runtime logs,
/// describes or reports carries the value of a secret environment variable (<see cref="SecretFilter"/>).
/// </remarks>
public interface IWorkloadRuntime
{
    /// <summary>A short name for logs and capability reports, e.g. "process" or "docker".</summary>
    string Name { get; }

    /// <summary>What this runtime can enforce on this machine, with a reason for anything it cannot.</summary>
    Task<RuntimeCapabilities> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>Starts a workload; a workload with the same id that is still running is left as it is and its status returned.</summary>
    Task<WorkloadStatus> StartAsync(WorkloadSpec spec, CancellationToken cancellationToken);

    /// <summary>The workload's current status, or null when this runtime does not know the id.</summary>
    Task<WorkloadStatus?> GetStatusAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every workload this runtime knows and has not removed.</summary>
    Task<IReadOnlyList<WorkloadStatus>> ListAsync(CancellationToken cancellationToken);

    /// <summary>SIGTERM to the whole process tree, SIGKILL after <paramref name="grace"/>; stopping a stopped workload does nothing.</summary>
    Task<WorkloadStatus> StopAsync(string id, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Starts an exited workload again from the spec this runtime kept (env included); a running one is left as it is.</summary>
    Task<WorkloadStatus> RestartAsync(string id, CancellationToken cancellationToken);

    /// <summary>Kills the workload if it still runs and deletes what the runtime kept of it, logs included; unknown ids are ignored.</summary>
    Task RemoveAsync(string id, CancellationToken cancellationToken);

    /// <summary>The workload's stdout and stderr, line by line; with <paramref name="follow"/>, until the workload ends or the token fires.</summary>
    IAsyncEnumerable<string> ReadLogsAsync(string id, bool follow, CancellationToken cancellationToken);

    /// <summary>
    /// Called once after the provider restarts: finds every workload this runtime started before (from its own state)
    /// and reports each as running (re-adopted, watched from now on) or exited, so that the caller can restart dead ones.
    /// </summary>
    Task<IReadOnlyList<WorkloadStatus>> AdoptAsync(CancellationToken cancellationToken);
}
