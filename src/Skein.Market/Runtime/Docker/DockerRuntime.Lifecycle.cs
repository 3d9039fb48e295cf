using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Skein.Market.Runtime;

public sealed partial class DockerRuntime
{
    public async Task<WorkloadStatus> StopAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var inspect = await InspectAsync(id, cancellationToken) ?? throw WorkloadNotFoundException.For(Name, id);
        if (inspect.State.Running)
        {
            // The engine sends the image's stop signal (SIGTERM), waits t seconds, then SIGKILLs the container's whole tree.
            var seconds = (int)Math.Ceiling(Math.Max(0, grace.TotalSeconds));
            LogStopping(_log, id, seconds);
            var reply = await _engine.PostAsync($"containers/{id}/stop?t={seconds}", null, cancellationToken, extraTime: TimeSpan.FromSeconds(seconds));
            if (!reply.Ok && reply.Status is not HttpStatusCode.NotModified and not HttpStatusCode.NotFound)
            {
                throw new WorkloadRuntimeException($"the engine could not stop {id}: {reply.Message}", isTransient: (int)reply.Status >= 500);
            }
        }

        return await GetStatusAsync(id, cancellationToken) ?? throw WorkloadNotFoundException.For(Name, id);
    }

    public async Task<WorkloadStatus> RestartAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var inspect = await InspectAsync(id, cancellationToken) ?? throw WorkloadNotFoundException.For(Name, id);
        if (inspect.State.Running)
        {
            return await ToStatusAsync(inspect, cancellationToken);
        }

        // The container keeps its spec, env and cpuset: starting it again is the restart.
        Hold(id, inspect);
        var reply = await _engine.PostAsync($"containers/{id}/start", null, cancellationToken);
        if (!reply.Ok && reply.Status != HttpStatusCode.NotModified)
        {
            Release(id);
            var filter = new SecretFilter(EnvOf(inspect));
            return WorkloadStatus.Failure(id, filter.Apply($"the container did not start: {reply.Message}"));
        }

        return await GetStatusAsync(id, cancellationToken) ?? throw WorkloadNotFoundException.For(Name, id);
    }

    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (await InspectAsync(id, cancellationToken) is null)
        {
            return;
        }

        var reply = await _engine.DeleteAsync($"containers/{id}?force=1", cancellationToken);
        if (!reply.Ok && reply.Status != HttpStatusCode.NotFound)
        {
            throw new WorkloadRuntimeException($"the engine could not remove {id}: {reply.Message}", isTransient: (int)reply.Status >= 500);
        }

        Release(id);
        LogRemoved(_log, id);
    }

    public async Task<IReadOnlyList<WorkloadStatus>> AdoptAsync(CancellationToken cancellationToken)
    {
        var result = new List<WorkloadStatus>();
        foreach (var id in await WorkloadIdsAsync(cancellationToken))
        {
            if (await InspectAsync(id, cancellationToken) is not { } inspect)
            {
                continue;
            }

            if (inspect.State.Running)
            {
                Hold(id, inspect);
                LogAdopted(_log, id, inspect.State.Pid);
            }

            result.Add(await ToStatusAsync(inspect, cancellationToken) with { Adopted = inspect.State.Running });
        }

        return result;
    }

    public async IAsyncEnumerable<string> ReadLogsAsync(string id, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var inspect = await InspectAsync(id, cancellationToken) ?? throw WorkloadNotFoundException.For(Name, id);
        var filter = new SecretFilter(EnvOf(inspect));
        var (response, refusal) = await _engine.OpenStreamAsync(HttpMethod.Get, $"containers/{id}/logs?stdout=1&stderr=1&follow={(follow ? 1 : 0)}", cancellationToken);
        if (response is null)
        {
            throw refusal?.Status == HttpStatusCode.NotFound
                ? WorkloadNotFoundException.For(Name, id)
                : new WorkloadRuntimeException($"the engine refused the logs of {id}: {refusal?.Message}", isTransient: true);
        }

        using (response)
        {
            // Followed, the engine ends the stream when the container stops.
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var demux = new DockerLogDemultiplexer();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                foreach (var line in demux.Append(buffer.AsSpan(0, read)))
                {
                    yield return filter.Apply(line);
                }
            }

            foreach (var line in demux.Flush())
            {
                yield return filter.Apply(line);
            }
        }
    }

    /// <summary>The container named <paramref name="id"/> if it is a Skein workload of that id; null otherwise.</summary>
    private async Task<DockerInspect?> InspectAsync(string id, CancellationToken cancellationToken)
    {
        if (!WorkloadId.IsValid(id))
        {
            return null;
        }

        var reply = await _engine.GetAsync($"containers/{id}/json", cancellationToken);
        if (reply.Status == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!reply.Ok)
        {
            throw new WorkloadRuntimeException($"the engine could not inspect {id}: {reply.Message}", isTransient: (int)reply.Status >= 500);
        }

        var inspect = reply.Read<DockerInspect>();
        return inspect.Config.Labels?.GetValueOrDefault(WorkloadLabel) == id ? inspect : null;
    }

    private async Task<IReadOnlyList<string>> WorkloadIdsAsync(CancellationToken cancellationToken)
    {
        var filters = Uri.EscapeDataString(JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = [WorkloadLabel] }));
        var reply = await _engine.GetAsync($"containers/json?all=1&filters={filters}", cancellationToken);
        if (!reply.Ok)
        {
            throw new WorkloadRuntimeException($"the engine could not list containers: {reply.Message}", isTransient: (int)reply.Status >= 500);
        }

        return [.. reply.Read<List<DockerSummary>>().Select(s => s.Labels?.GetValueOrDefault(WorkloadLabel)).OfType<string>().Order(StringComparer.Ordinal)];
    }

    private async Task<WorkloadStatus> ToStatusAsync(DockerInspect inspect, CancellationToken cancellationToken)
    {
        var id = inspect.Config.Labels![WorkloadLabel];
        var s = inspect.State;
        var state = s.Status switch
        {
            "created" => WorkloadState.Starting,
            "running" or "paused" or "restarting" => WorkloadState.Running,
            "exited" or "removing" => string.IsNullOrEmpty(s.Error) ? WorkloadState.Exited : WorkloadState.Failed,
            "dead" => WorkloadState.Failed,
            _ => WorkloadState.Unknown,
        };
        if (state is WorkloadState.Exited or WorkloadState.Failed)
        {
            Release(id);
        }

        var filter = new SecretFilter(EnvOf(inspect));
        var error = string.IsNullOrEmpty(s.Error) ? (s.OOMKilled ? "killed by the kernel at its memory limit (OOM)" : null) : filter.Apply(s.Error);
        return new WorkloadStatus(
            id,
            state,
            state is WorkloadState.Exited or WorkloadState.Failed ? s.ExitCode : null,
            s.Pid > 0 ? s.Pid : null,
            Time(s.StartedAt),
            await LimitNotesAsync(inspect, cancellationToken),
            error)
        {
            StoppedAt = state is WorkloadState.Exited or WorkloadState.Failed ? Time(s.FinishedAt) : null,
        };
    }

    private async Task<IReadOnlyList<string>> LimitNotesAsync(DockerInspect inspect, CancellationToken cancellationToken)
    {
        var info = await InfoAsync(cancellationToken);
        var host = inspect.HostConfig;
        var notes = new List<string>();
        if (host is { Memory: > 0 } && !info.MemoryLimit)
        {
            notes.Add("memory limit not enforced: the engine reports no memory limit support");
        }

        if (host is { NanoCpus: > 0 } && !info.CpuCfsQuota)
        {
            notes.Add("cpu quota not enforced: the engine reports no CFS quota support");
        }

        if (host?.CpusetCpus is { Length: > 0 } && !info.CPUSet)
        {
            notes.Add("cpu affinity not enforced: the engine reports no cpuset support");
        }

        if (inspect.Config.Labels?.ContainsKey(StorageLabel) == true)
        {
            notes.Add("storage limit not enforced: no per-container disk quota is set");
        }

        return notes;
    }

    private void Hold(string id, DockerInspect inspect)
    {
        var cores = SlotPool.Parse(inspect.HostConfig?.CpusetCpus);
        var gpus = (inspect.HostConfig?.DeviceRequests ?? []).SelectMany(d => d.DeviceIDs ?? []).Select(g => int.Parse(g, CultureInfo.InvariantCulture)).ToArray();
        if (_held.TryAdd(id, (cores, gpus)))
        {
            _cores.Reserve(cores);
            _gpus.Reserve(gpus);
        }
    }

    private static Dictionary<string, string> EnvOf(DockerInspect inspect) =>
        (inspect.Config.Env ?? []).Select(e => e.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);

    // The engine writes "0001-01-01T00:00:00Z" for a time that has not come.
    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1 ? t : null;
}
