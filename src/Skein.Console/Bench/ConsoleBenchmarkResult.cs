namespace Skein.Console.Bench;

/// <summary>How `skein bench console` runs: the size of the history, the timed requests per page, and the seed.</summary>
public sealed record ConsoleBenchmarkOptions
{
    public int Rounds { get; init; } = 1000;

    public int Nodes { get; init; } = 100;

    /// <summary>Timed requests per page, in each of the two series (after a new block, and warm).</summary>
    public int Requests { get; init; } = 30;

    /// <summary>Untimed requests per page before the timed ones (JIT, connection, first-fill caches).</summary>
    public int WarmUp { get; init; } = 3;

    public ulong Seed { get; init; } = 42;

    /// <summary>Null when usable, else the first problem, naming the option.</summary>
    public string? Validate() => Requests < 1 ? $"--requests: must be >= 1, got {Requests}" : WarmUp < 0 ? "--warm-up: must be >= 0"
        : new LongHistoryOptions { Rounds = Rounds, Nodes = Nodes, Seed = Seed }.Validate();
}

/// <summary>
/// One page's server time in milliseconds (a loopback GET to the full response). <c>p50_ms</c> and <c>p95_ms</c>: each
/// request follows a new block, as on a live network; <c>warm_*</c>: repeated requests at the same height. Field names
/// are a contract.
/// </summary>
public sealed record ConsolePageTiming(string Page, string Path, int Status, double P50Ms, double P95Ms, double WarmP50Ms, double WarmP95Ms, long Bytes);

/// <summary>One coordinator API endpoint the pages read, timed the same way after a new block (for finding where a page's time goes).</summary>
public sealed record ConsoleApiTiming(string Endpoint, double P50Ms, double P95Ms, long Bytes);

/// <summary>Where the benchmark ran and what serving the history cost before the first page.</summary>
public sealed record ConsoleBenchmarkHost(int Cores, string Os, string Runtime, double LedgerOpenSeconds, ulong Blocks, long LedgerBytes);

/// <summary>The `skein bench console` document. Field names are a contract (docs/benchmarks.md, "Console").</summary>
public sealed record ConsoleBenchmarkResult(IReadOnlyList<ConsolePageTiming> Pages, int Rounds, int Nodes, long Transactions, double GenerateSeconds)
{
    /// <summary>Updates the ledger rejected and slashes it made in the history.</summary>
    public int RejectedUpdates { get; init; }

    public int Slashes { get; init; }

    /// <summary>Market leases in the history (one of them closed).</summary>
    public int Leases { get; init; }

    /// <summary>Pages the console does not serve (404), e.g. one another change adds; not timed.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    public IReadOnlyList<ConsoleApiTiming> Api { get; init; } = [];

    public ConsoleBenchmarkHost? Host { get; init; }
}
