namespace Skein.Market.Runtime;

/// <summary>Where the Docker Engine listens and which of the machine's resources the Docker runtime hands out.</summary>
public sealed class DockerRuntimeOptions
{
    /// <summary>The engine's unix socket.</summary>
    public string SocketPath { get; init; } = "/var/run/docker.sock";

    /// <summary>The Engine API version asked for in every path; 1.41 (Docker 20.10) has everything used here.</summary>
    public string ApiVersion { get; init; } = "1.41";

    /// <summary>Cores handed out through CpusetCpus; null: all cores of this machine.</summary>
    public IReadOnlyList<int>? CpuPool { get; init; }

    /// <summary>GPU indices handed out exclusively through DeviceRequests; empty: none.</summary>
    public IReadOnlyList<int> GpuPool { get; init; } = [];

    /// <summary>How long one engine call may take (stop adds its grace, pulls and followed logs have none).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
