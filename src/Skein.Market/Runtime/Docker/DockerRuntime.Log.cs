using Microsoft.Extensions.Logging;

namespace Skein.Market.Runtime;

// Every message takes ids, images and counts, or text that went through SecretFilter: never a raw env value.
public sealed partial class DockerRuntime
{
    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: started {Image} as container {Container} on cores {Cores}, env {Env}")]
    private static partial void LogStarted(ILogger logger, string id, string image, string container, string cores, string env);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: not started: {Reason}")]
    private static partial void LogStartRefused(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: the engine warns: {Warning}")]
    private static partial void LogEngineWarning(ILogger logger, string id, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: pulling {Image}")]
    private static partial void LogPulling(ILogger logger, string id, string image);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: pull failed: {Reason}")]
    private static partial void LogPullFailed(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: stopping, {Grace} s to end")]
    private static partial void LogStopping(ILogger logger, string id, int grace);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: re-adopted, container still running as pid {Pid}")]
    private static partial void LogAdopted(ILogger logger, string id, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: container removed")]
    private static partial void LogRemoved(ILogger logger, string id);
}
