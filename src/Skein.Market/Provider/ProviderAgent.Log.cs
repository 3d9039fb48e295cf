using Microsoft.Extensions.Logging;
using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>The provider's log messages (never a manifest's env: it holds secrets).</summary>
public sealed partial class ProviderAgent
{
    [LoggerMessage(Level = LogLevel.Information, Message = "registered provider {Provider} at {HostUri}")]
    private static partial void LogRegistered(ILogger logger, Address provider, Uri hostUri);

    [LoggerMessage(Level = LogLevel.Information, Message = "adopted {Running} running workload(s); {Stopped} found not running")]
    private static partial void LogAdopted(ILogger logger, int running, int stopped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "poll failed: {Reason}")]
    private static partial void LogPollFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "no bid on {Order} ({Kind}): {Reason}")]
    private static partial void LogDeclined(ILogger logger, OrderId order, NoBidKind kind, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "bid {Price} base units per block ({Denom} market) on {Order}")]
    private static partial void LogBid(ILogger logger, OrderId order, UInt128 price, string denom);

    [LoggerMessage(Level = LogLevel.Information, Message = "bid on {Order} refused: {Reason}")]
    private static partial void LogBidRefused(ILogger logger, OrderId order, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "manifest {Hash} received for {Deployment}")]
    private static partial void LogManifest(ILogger logger, DeploymentId deployment, Hash32 hash);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Workload}: {State}")]
    private static partial void LogStarted(ILogger logger, string workload, Skein.Market.Runtime.WorkloadState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "workload {Workload} failed; restarted: {State}")]
    private static partial void LogRestarted(ILogger logger, string workload, Skein.Market.Runtime.WorkloadState state);

    [LoggerMessage(Level = LogLevel.Information, Message = "workload {Workload} stopped: lease {Lease} closed")]
    private static partial void LogStopped(ILogger logger, string workload, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closing lease {Lease}: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, LeaseId lease, string reason);
}
