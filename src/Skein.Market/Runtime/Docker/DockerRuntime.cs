using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Skein.Market.Runtime;

/// <summary>
/// Runs workloads as Docker containers through the Engine API on its unix socket. The engine is the state: every
/// container carries the label skein.workload=&lt;id&gt; and is named after the id, so a restarted provider finds
/// its containers by label. Stopped containers stay (with their logs) until removed.
/// </summary>
public sealed partial class DockerRuntime : IWorkloadRuntime, IDisposable
{
    /// <summary>The label that marks a container as a Skein workload; its value is the workload id.</summary>
    public const string WorkloadLabel = "skein.workload";

    private const string ServiceLabel = "skein.service";
    private const string StorageLabel = "skein.storage-bytes";

    private readonly DockerEngineClient _engine;
    private readonly ILogger _log;
    private readonly SlotPool _cores;
    private readonly SlotPool _gpus;
    private readonly ConcurrentDictionary<string, (IReadOnlyList<int> Cores, IReadOnlyList<int> Gpus)> _held = new(StringComparer.Ordinal);
    private DockerInfo? _info;

    public DockerRuntime(DockerRuntimeOptions? options = null, ILogger<DockerRuntime>? logger = null)
    {
        options ??= new DockerRuntimeOptions();
        _engine = new DockerEngineClient(options.SocketPath, options.ApiVersion, options.RequestTimeout);
        _log = logger ?? (ILogger)NullLogger.Instance;
        _cores = new SlotPool(options.CpuPool ?? Enumerable.Range(0, Environment.ProcessorCount), exclusive: false);
        _gpus = new SlotPool(options.GpuPool, exclusive: true);
    }

    public string Name => "docker";

    public async Task<RuntimeCapabilities> ProbeAsync(CancellationToken cancellationToken)
    {
        DockerInfo info;
        try
        {
            var ping = await _engine.GetAsync("_ping", cancellationToken);
            if (!ping.Ok)
            {
                return RuntimeCapabilities.Unavailable(Name, $"the Docker engine at {_engine.SocketPath} answers {(int)ping.Status}: {ping.Message}");
            }

            info = await InfoAsync(cancellationToken);
        }
        catch (WorkloadRuntimeException e)
        {
            return RuntimeCapabilities.Unavailable(Name, e.Message);
        }

        var cgroup = info.CgroupVersion is null ? "its cgroups" : $"cgroup v{info.CgroupVersion}";
        return new RuntimeCapabilities(
            Name,
            true,
            null,
            info.CPUSet ? Capability.Yes($"CpusetCpus from cores {SlotPool.Format(_cores.Slots)}, least used first") : Capability.No("cpu affinity not enforced: the engine reports no cpuset support"),
            info.MemoryLimit ? Capability.Yes($"HostConfig.Memory, enforced by the engine through {cgroup}") : Capability.No("memory limit not enforced: the engine reports no memory limit support"),
            info.CpuCfsQuota ? Capability.Yes($"HostConfig.NanoCpus, enforced by the engine through {cgroup}") : Capability.No("cpu quota not enforced: the engine reports no CFS quota support"),
            _gpus.Slots.Count > 0 ? Capability.Yes($"DeviceRequests to the nvidia driver for GPUs {SlotPool.Format(_gpus.Slots)}, each to one workload") : Capability.No("no GPUs configured for this runtime"),
            [$"Docker {info.ServerVersion} at {_engine.SocketPath}, {info.NCPU} cpus", "storage limit not enforced: no per-container disk quota is set"]);
    }

    public async Task<WorkloadStatus> StartAsync(WorkloadSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        WorkloadId.Validate(spec.Id);
        if (await InspectAsync(spec.Id, cancellationToken) is { } existing)
        {
            if (existing.State.Running)
            {
                return await ToStatusAsync(existing, cancellationToken);
            }

            // An ended container of the same id is replaced: the spec may have changed since.
            await RemoveAsync(spec.Id, cancellationToken);
        }

        var gpus = _gpus.TryAcquire((int)spec.Resources.Gpus);
        if (gpus is null)
        {
            return Refuse(spec.Id, $"needs {spec.Resources.Gpus} GPU(s); {_gpus.Free} of {_gpus.Slots.Count} free");
        }

        var cores = spec.Resources.CpuMillis == 0 ? [] : _cores.TryAcquire(spec.Resources.WholeCores) ?? [];
        _held[spec.Id] = (cores, gpus);
        var filter = new SecretFilter(spec.Env);
        var create = await CreateAsync(spec, CreateRequest(spec, cores, gpus), filter, cancellationToken);
        if (create is null)
        {
            Release(spec.Id);
            return Refuse(spec.Id, $"image '{spec.Image}' not found: the engine has no such image and cannot pull it");
        }

        if (!create.Ok)
        {
            Release(spec.Id);
            return Refuse(spec.Id, filter.Apply($"the engine refused to create the container: {create.Message}"));
        }

        foreach (var warning in create.Read<DockerCreateResponse>().Warnings ?? [])
        {
            LogEngineWarning(_log, spec.Id, filter.Apply(warning));
        }

        var start = await _engine.PostAsync($"containers/{spec.Id}/start", null, cancellationToken);
        if (!start.Ok && start.Status != HttpStatusCode.NotModified)
        {
            Release(spec.Id);
            return Refuse(spec.Id, filter.Apply($"the container did not start: {start.Message}"));
        }

        var inspect = await InspectAsync(spec.Id, cancellationToken) ?? throw new WorkloadRuntimeException($"container {spec.Id} vanished after it started", isTransient: true);
        if (_log.IsEnabled(LogLevel.Information))
        {
            var described = SecretFilter.Describe(spec.Env);
            var container = inspect.Id[..Math.Min(12, inspect.Id.Length)];
            var coreList = SlotPool.Format(cores);
            LogStarted(_log, spec.Id, spec.Image, container, coreList, described);
        }

        return await ToStatusAsync(inspect, cancellationToken);
    }

    public async Task<WorkloadStatus?> GetStatusAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return await InspectAsync(id, cancellationToken) is { } inspect ? await ToStatusAsync(inspect, cancellationToken) : null;
    }

    public async Task<IReadOnlyList<WorkloadStatus>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<WorkloadStatus>();
        foreach (var id in await WorkloadIdsAsync(cancellationToken))
        {
            if (await GetStatusAsync(id, cancellationToken) is { } status)
            {
                result.Add(status);
            }
        }

        return result;
    }

    public void Dispose() => _engine.Dispose();

    private static DockerCreateRequest CreateRequest(WorkloadSpec spec, IReadOnlyList<int> cores, IReadOnlyList<int> gpus)
    {
        var labels = new Dictionary<string, string>(spec.Labels, StringComparer.Ordinal)
        {
            [WorkloadLabel] = spec.Id,
            [ServiceLabel] = spec.Service,
        };
        if (spec.Resources.StorageBytes > 0)
        {
            labels[StorageLabel] = spec.Resources.StorageBytes.ToString(CultureInfo.InvariantCulture);
        }

        // .NET sets its GC heap limit from the container's memory limit by itself; nothing to add to the env here.
        var host = new DockerHostConfig(
            checked((long)spec.Resources.MemoryBytes),
            checked((long)spec.Resources.CpuMillis * 1_000_000),
            cores.Count == 0 ? null : SlotPool.Format(cores),
            gpus.Count == 0 ? null : [new DockerDeviceRequest("nvidia", 0, [.. gpus.Select(g => g.ToString(CultureInfo.InvariantCulture))], [["gpu"]])]);

        // An entrypoint given in the request also drops the image's default Cmd (the engine's rule, as in Kubernetes).
        return new DockerCreateRequest(
            spec.Image,
            spec.Command.Count > 0 ? spec.Command : null,
            spec.Args.Count > 0 ? spec.Args : null,
            [.. spec.Env.Select(e => $"{e.Key}={e.Value}")],
            labels,
            host);
    }

    /// <summary>Creates the container, pulling the image once when the engine lacks it; null when the image cannot be had.</summary>
    private async Task<DockerReply?> CreateAsync(WorkloadSpec spec, DockerCreateRequest request, SecretFilter filter, CancellationToken cancellationToken)
    {
        var path = $"containers/create?name={Uri.EscapeDataString(spec.Id)}";
        var reply = await _engine.PostAsync(path, request, cancellationToken);
        if (reply.Status != HttpStatusCode.NotFound)
        {
            return reply;
        }

        LogPulling(_log, spec.Id, spec.Image);
        var (pull, refusal) = await _engine.OpenStreamAsync(HttpMethod.Post, $"images/create?fromImage={Uri.EscapeDataString(spec.Image)}", cancellationToken);
        if (pull is null)
        {
            LogPullFailed(_log, spec.Id, filter.Apply(refusal?.Message ?? "refused"));
            return null;
        }

        using (pull)
        {
            // The pull reports progress as JSON lines and fails with an "error" line, yet answers 200 either way.
            var progress = await pull.Content.ReadAsStringAsync(cancellationToken);
            if (progress.Contains("\"error\"", StringComparison.Ordinal))
            {
                LogPullFailed(_log, spec.Id, filter.Apply(progress.Trim()));
                return null;
            }
        }

        reply = await _engine.PostAsync(path, request, cancellationToken);
        return reply.Status == HttpStatusCode.NotFound ? null : reply;
    }

    private WorkloadStatus Refuse(string id, string error)
    {
        LogStartRefused(_log, id, error);
        return WorkloadStatus.Failure(id, error);
    }

    private void Release(string id)
    {
        if (_held.TryRemove(id, out var held))
        {
            _cores.Release(held.Cores);
            _gpus.Release(held.Gpus);
        }
    }

    private async Task<DockerInfo> InfoAsync(CancellationToken cancellationToken)
    {
        if (_info is null)
        {
            var reply = await _engine.GetAsync("info", cancellationToken);
            _info = reply.Ok ? reply.Read<DockerInfo>() : throw new WorkloadRuntimeException($"the Docker engine's /info answered {(int)reply.Status}: {reply.Message}", isTransient: true);
        }

        return _info;
    }
}
