using Microsoft.Extensions.Logging;

namespace Skein.Market.Runtime;

// Every message takes ids, images and counts, or text that went through SecretFilter: never a raw env value.
public sealed partial class ProcessRuntime
{
    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: started {Image} as pid {Pid} on cores {Cores}: {CommandLine} env {Env}")]
    private static partial void LogStarted(ILogger logger, string id, string image, int pid, string cores, string commandLine, string env);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: {Note}")]
    private static partial void LogLimitNote(ILogger logger, string id, string note);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: not started: {Reason}")]
    private static partial void LogStartRefused(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: SIGTERM to process group {Pid}, {Grace} s to end")]
    private static partial void LogStopping(ILogger logger, string id, int pid, double grace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: still running after {Grace} s; SIGKILL to its whole tree")]
    private static partial void LogKilling(ILogger logger, string id, double grace);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: exited with {ExitCode}")]
    private static partial void LogExited(ILogger logger, string id, string exitCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: re-adopted, still running as pid {Pid}")]
    private static partial void LogAdopted(ILogger logger, string id, long pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: ended while the provider was away (exit code {ExitCode})")]
    private static partial void LogFoundEnded(ILogger logger, string id, string exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Id}: cgroup {Cgroup} still holds processes and was left behind")]
    private static partial void LogCgroupLeft(ILogger logger, string id, string cgroup);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Id}: removed with its folder")]
    private static partial void LogRemoved(ILogger logger, string id);
}
