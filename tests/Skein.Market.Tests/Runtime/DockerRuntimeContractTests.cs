using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>The runtime contract for <see cref="DockerRuntime"/>, against the fake engine (no Docker engine runs here).</summary>
[SupportedOSPlatform("linux")]
public sealed class DockerRuntimeContractTests : WorkloadRuntimeContractTests
{
    private readonly FakeDockerEngine _engine = new();

    public override async ValueTask InitializeAsync() => await _engine.StartAsync();

    protected override IWorkloadRuntime CreateRuntime(ILoggerFactory loggers) =>
        new DockerRuntime(new DockerRuntimeOptions { SocketPath = _engine.SocketPath }, loggers.CreateLogger<DockerRuntime>());

    protected override Task KillBehindTheBackAsync(string id) => _engine.KillAsync(id);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _engine.DisposeAsync();
    }
}
