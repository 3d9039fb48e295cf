using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>The runtime contract for <see cref="ProcessRuntime"/>: real /bin/sh workloads, detached, on this machine.</summary>
[SupportedOSPlatform("linux")]
public sealed class ProcessRuntimeContractTests : WorkloadRuntimeContractTests
{
    private readonly ProcessTestState _state = new();

    protected override IWorkloadRuntime CreateRuntime(ILoggerFactory loggers) =>
        new ProcessRuntime(_state.Options(), ProcessTestState.Images, loggers.CreateLogger<ProcessRuntime>());

    protected override Task KillBehindTheBackAsync(string id) => _state.KillAsync(id);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _state.Dispose();
    }
}
