using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Console.Data;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Ledger.Storage;

namespace Skein.Console.Bench;

/// <summary>
/// `skein bench console`: generates a long history (<see cref="LongHistoryGenerator"/>), serves it with a real
/// coordinator and console on loopback, and times every page: after a new block (what a live console does every
/// second: its caches are per block height) and warm (the same height again).
/// </summary>
public static class ConsoleBenchmark
{
    public static async Task<ConsoleBenchmarkResult> RunAsync(ConsoleBenchmarkOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }
        var log = progress ?? (_ => { });
        var dir = Directory.CreateTempSubdirectory("skein-bench-console-").FullName;
        try
        {
            var historyOptions = new LongHistoryOptions { Rounds = options.Rounds, Nodes = options.Nodes, Seed = options.Seed };
            log($"generating {options.Rounds:N0} rounds with {options.Nodes} nodes ...");
            var history = await LongHistoryGenerator.GenerateAsync(dir, historyOptions, log, cancellationToken);
            log(string.Create(CultureInfo.InvariantCulture,
                $"  {history.Transactions:N0} transactions in {history.Blocks:N0} blocks, {history.RejectedUpdates} updates rejected, {history.Slashes} slashes, {history.Seconds:0.0} s"));
            var ledgerBytes = new FileInfo(Path.Combine(dir, "ledger.db")).Length;

            using var key = historyOptions.Key("coordinator");
            var open = Stopwatch.StartNew();
            // Deadlines of a day: the open round waits for its trainers and nothing but the benchmark moves the chain's rounds.
            var day = TimeSpan.FromDays(1);
            await using var coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = dir, Timings = new RoundTimings(day, day, day) },
                key, null, NullLoggerFactory.Instance, cancellationToken);
            var openSeconds = open.Elapsed.TotalSeconds;
            log(string.Create(CultureInfo.InvariantCulture, $"coordinator at {coordinator.ApiUri} (ledger replayed in {openSeconds:0.0} s)"));
            // The feed polls once at start and then sleeps: the benchmark itself shows the console each new block, so
            // every timed request after a block pays for whatever that block made stale (no background refresh races it).
            await using var console = await ConsoleHost.StartAsync(new ConsoleOptions
            {
                Coordinator = coordinator.ApiUri,
                ReadOnly = true,
                VerifyRounds = false,
                Poll = day,
            }, null, NullLoggerFactory.Instance, cancellationToken);
            log($"console at {console.Uri}");

            var data = console.Services.GetRequiredService<ConsoleData>();
            // The generated history is an embedded chain: the bench seals blocks on it to move the head.
            var chain = (EmbeddedLedger)coordinator.Context.Ledger;
            async Task NewBlockAsync(CancellationToken ct)
            {
                await chain.ProduceEmptyBlockAsync(ct);
                await data.RefreshStatusAsync(ct);
            }

            var t = history.TaskId;
            var middle = (history.Rounds / 2) + 1;
            var pages = new (string Page, string Path)[]
            {
                ("/", ""),
                ("/tasks", "tasks"),
                ("/tasks/{id}", $"tasks/{t}"),
                ("/tasks/{id}?page=10", $"tasks/{t}?page=10"),
                ("/tasks/{id}/rounds/{r}", $"tasks/{t}/rounds/{middle}"),
                ("/tasks/{id}/leaderboard", $"tasks/{t}/leaderboard"),
                ("/tasks/{id}/leaderboard?sort=agreement", $"tasks/{t}/leaderboard?sort=agreement"),
                ("/accounts/{trainer}", $"accounts/{history.BusiestTrainer}"),
                ("/accounts/{validator}", $"accounts/{history.BusiestValidator}"),
                ("/market", "market"),
            };
            using var http = new HttpClient { BaseAddress = console.Uri, Timeout = TimeSpan.FromMinutes(2) };
            var timings = new List<ConsolePageTiming>();
            var skipped = new List<string>();
            foreach (var (page, path) in pages)
            {
                var timing = await TimeAsync(http, path, options, NewBlockAsync, cancellationToken);
                if (timing.Status == (int)HttpStatusCode.NotFound)
                {
                    log($"  {page}: 404, skipped");
                    skipped.Add(page);
                    continue;
                }
                timings.Add(new ConsolePageTiming(page, "/" + path, timing.Status, timing.P50, timing.P95, timing.WarmP50, timing.WarmP95, timing.Bytes));
                log(string.Create(CultureInfo.InvariantCulture,
                    $"  {page,-40} {timing.Status} p50 {timing.P50,7:0.0} ms  p95 {timing.P95,7:0.0} ms  warm p50 {timing.WarmP50,6:0.0} ms  {timing.Bytes,9:N0} bytes"));
            }

            using var api = new HttpClient { BaseAddress = coordinator.ApiUri, Timeout = TimeSpan.FromMinutes(2) };
            var endpoints = new (string Label, string Path)[]
            {
                ("/api/status", "api/status"),
                ("/api/tasks", "api/tasks"),
                ("/api/tasks/{id}/rounds", $"api/tasks/{t}/rounds"),
                ("/api/tasks/{id}/rounds/{r}", $"api/tasks/{t}/rounds/{middle}"),
                ("/api/tasks/{id}/leaderboard", $"api/tasks/{t}/leaderboard"),
                ("/api/accounts/{trainer}", $"api/accounts/{history.BusiestTrainer}"),
                ("/api/accounts/{validator}", $"api/accounts/{history.BusiestValidator}"),
            };
            var apiTimings = new List<ConsoleApiTiming>();
            foreach (var (label, path) in endpoints)
            {
                var timing = await TimeAsync(api, path, options, ct => chain.ProduceEmptyBlockAsync(ct), cancellationToken);
                apiTimings.Add(new ConsoleApiTiming(label, timing.P50, timing.P95, timing.Bytes));
            }

            var status = await coordinator.Context.Ledger.GetStatusAsync(cancellationToken);
            return new ConsoleBenchmarkResult(timings, history.Rounds, options.Nodes, history.Transactions, Math.Round(history.Seconds, 2))
            {
                RejectedUpdates = history.RejectedUpdates,
                Slashes = history.Slashes,
                Leases = history.Leases,
                Skipped = skipped,
                Api = apiTimings,
                Host = new ConsoleBenchmarkHost(Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
                    Math.Round(openSeconds, 2), status.Height, ledgerBytes),
            };
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder; the operating system cleans it up if a file is still held.
            }
        }
    }

    private sealed record Timing(int Status, double P50, double P95, double WarmP50, double WarmP95, long Bytes);

    /// <summary>Warm-up requests, then <c>Requests</c> timed after a new block each, then as many warm; a page that is not 200 is not timed.</summary>
    private static async Task<Timing> TimeAsync(HttpClient http, string path, ConsoleBenchmarkOptions options, Func<CancellationToken, Task> newBlock, CancellationToken ct)
    {
        var (status, bytes, _) = await GetAsync(http, path, ct);
        if (status != HttpStatusCode.OK)
        {
            return new Timing((int)status, 0, 0, 0, 0, bytes);
        }
        for (var i = 0; i < options.WarmUp; i++)
        {
            await newBlock(ct);
            await GetAsync(http, path, ct);
        }
        var fresh = new double[options.Requests];
        for (var i = 0; i < fresh.Length; i++)
        {
            await newBlock(ct);
            (status, bytes, fresh[i]) = await GetAsync(http, path, ct);
        }
        var warm = new double[options.Requests];
        for (var i = 0; i < warm.Length; i++)
        {
            (status, bytes, warm[i]) = await GetAsync(http, path, ct);
        }
        return new Timing((int)status, Percentile(fresh, 50), Percentile(fresh, 95), Percentile(warm, 50), Percentile(warm, 95), bytes);
    }

    /// <summary>One GET, timed from sending to the last byte of the body (loopback, a kept-alive connection).</summary>
    private static async Task<(HttpStatusCode Status, long Bytes, double Ms)> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        return (response.StatusCode, body.LongLength, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Nearest-rank percentile, rounded to 0.1 ms.</summary>
    private static double Percentile(double[] samples, int p)
    {
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 1);
    }
}
