using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skein.Market.Runtime;

// The few Docker Engine API shapes the runtime sends and reads (https://docs.docker.com/engine/api/v1.41/).
// Property names are the API's own, so they serialize as they are.

internal sealed record DockerDeviceRequest(string Driver, int Count, IReadOnlyList<string>? DeviceIDs, IReadOnlyList<IReadOnlyList<string>> Capabilities);

internal sealed record DockerHostConfig(long Memory, long NanoCpus, string? CpusetCpus, IReadOnlyList<DockerDeviceRequest>? DeviceRequests);

internal sealed record DockerCreateRequest(
    string Image,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Cmd,
    IReadOnlyList<string> Env,
    IReadOnlyDictionary<string, string> Labels,
    DockerHostConfig HostConfig);

internal sealed record DockerCreateResponse(string Id, IReadOnlyList<string>? Warnings);

internal sealed record DockerContainerState(string Status, bool Running, bool OOMKilled, int ExitCode, int Pid, string? Error, string? StartedAt, string? FinishedAt);

internal sealed record DockerContainerConfig(string? Image, IReadOnlyList<string>? Env, IReadOnlyDictionary<string, string>? Labels);

internal sealed record DockerInspect(string Id, string Name, DockerContainerState State, DockerContainerConfig Config, DockerHostConfig? HostConfig);

internal sealed record DockerSummary(string Id, IReadOnlyList<string> Names, IReadOnlyDictionary<string, string>? Labels);

internal sealed record DockerInfo(int NCPU, long MemTotal, bool MemoryLimit, bool CpuCfsQuota, bool CPUSet, string? CgroupVersion, string? ServerVersion);

internal sealed record DockerError([property: JsonPropertyName("message")] string? Message);

internal static class DockerJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
    };
}
