using Microsoft.Extensions.Logging;
using Skein.Ledger.Crypto;
using Skein.Market.Api;
using Skein.Market.Runtime;

namespace Skein.Market.Provider;

/// <summary>Everything a provider process needs: the market's URL, the provider's options and pricing, and how it runs workloads.</summary>
public sealed record ProviderNodeOptions
{
    public required Uri Market { get; init; }

    public required ProviderOptions Provider { get; init; }

    public required IBidPricing Pricing { get; init; }

    /// <summary><c>process</c> (child processes; the default here) or <c>docker</c> (where a Docker engine answers).</summary>
    public string Runtime { get; init; } = "process";

    /// <summary>What the process runtime runs for an image (the Skein image runs this machine's own `skein run-from-env`).</summary>
    public required IImageResolver Images { get; init; }

    /// <summary>Cores workloads may be pinned to (null: every core this process may use).</summary>
    public IReadOnlyList<int>? CpuPool { get; init; }

    /// <summary>Variables of the provider's environment its workloads inherit (nothing else: it may hold the provider's own secrets).</summary>
    public IReadOnlyList<string> InheritedEnvironment { get; init; } = ["PATH", "LANG", "LC_ALL", "TZ", "DOTNET_ROOT", "SKEIN_DATA_DIR", "NUGET_PACKAGES"];
}

/// <summary>
/// A running provider process, composed: the market client, its store and runtime, the agent and its endpoint.
/// `skein provider`, the demo and the benchmark start providers through this one path.
/// </summary>
public sealed class ProviderNode : IAsyncDisposable
{
    private readonly MarketApiClient _market;
    private readonly ProviderStore _store;
    private readonly IWorkloadRuntime _runtime;

    private ProviderNode(MarketApiClient market, ProviderStore store, IWorkloadRuntime runtime, ProviderHost host)
    {
        _market = market;
        _store = store;
        _runtime = runtime;
        Host = host;
    }

    public ProviderHost Host { get; }

    public static async Task<ProviderNode> StartAsync(ProviderNodeOptions options, LedgerKey key, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(loggers);
        var market = await MarketApiClient.ConnectAsync(options.Market, cancellationToken: cancellationToken);
        var store = new ProviderStore(options.Provider.StateDirectory);
        IWorkloadRuntime runtime = options.Runtime switch
        {
            "process" when OperatingSystem.IsLinux() => new ProcessRuntime(new ProcessRuntimeOptions
            {
                StateDirectory = Path.Combine(options.Provider.StateDirectory, "runtime"),
                CpuPool = options.CpuPool,
                InheritedEnvironment = options.InheritedEnvironment,
            }, options.Images, loggers.CreateLogger<ProcessRuntime>()),
            "process" => throw new ArgumentException("--runtime: the process runtime needs Linux (setsid, /proc, cgroups)"),
            "docker" => new DockerRuntime(new DockerRuntimeOptions { CpuPool = options.CpuPool }, loggers.CreateLogger<DockerRuntime>()),
            var other => throw new ArgumentException($"--runtime: must be process or docker, got '{other}'"),
        };
        var probe = await runtime.ProbeAsync(cancellationToken);
        if (!probe.Available)
        {
            (runtime as IDisposable)?.Dispose();
            store.Dispose();
            market.Dispose();
            throw new ArgumentException($"--runtime {options.Runtime}: {probe.UnavailableReason}");
        }
        var agent = new ProviderAgent(market, key, options.Provider, options.Pricing, runtime, store, loggers.CreateLogger("skein.provider"));
        var host = await ProviderHost.StartAsync(agent, loggers, cancellationToken: cancellationToken);
        return new ProviderNode(market, store, runtime, host);
    }

    /// <summary>Stops the endpoint and the loop; the workloads keep running, to be re-adopted by the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Host.Agent.Dispose();
        (_runtime as IDisposable)?.Dispose();
        _store.Dispose();
        _market.Dispose();
    }
}
