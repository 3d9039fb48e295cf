using System.Diagnostics;
using Skein.Aggregation;

namespace Skein.Simulation.Benchmarks;

/// <summary>One strategy's aggregation throughput for n updates of p parameters, beside a same-run memory copy.</summary>
public sealed record AggregationThroughput(string Strategy, int N, int P, double Gbps, double CopyGbps, double Ratio, double Seconds, string? Skipped);

/// <summary>
/// Measures aggregation throughput in GB/s of update data (n x p x 4 bytes per aggregation) and, in the same
/// run and on the same buffers, a plain copy of those bytes into a p-sized destination, so the ratio does not
/// depend on the machine. Each figure is the median of several timed repetitions after a warm-up.
/// </summary>
public static class AggregationBenchmark
{
    /// <summary>Quadratic strategies (Krum family) are skipped beyond this many n^2 p operations.</summary>
    public const double MaxQuadraticWork = 4e10;

    public static IReadOnlyList<StrategySpec> DefaultStrategies(int n)
    {
        var none = new Dictionary<string, double>();
        // Robust strategies get the largest f their rules allow at this n (Krum: n >= 2f+3, Bulyan: n >= 4f+3).
        var krumF = Math.Max(0, Math.Min((n - 3) / 2, n / 10));
        var bulyanF = Math.Max(0, (n - 3) / 4);
        return
        [
            new("fedavg", none),
            new("fedavgm", none),
            new("fedadagrad", none),
            new("fedadam", none),
            new("fedyogi", none),
            new("median", none),
            new("trimmed_mean", new Dictionary<string, double> { ["beta"] = 0.1 }),
            new("krum", new Dictionary<string, double> { ["f"] = krumF }),
            new("multikrum", new Dictionary<string, double> { ["f"] = krumF }),
            new("bulyan", new Dictionary<string, double> { ["f"] = Math.Min(bulyanF, Math.Max(1, n / 10)) }),
        ];
    }

    public static IEnumerable<AggregationThroughput> Run(int n, int p, IReadOnlyList<StrategySpec> strategies, double minSecondsPerCase = 0.5,
        int maxRepetitions = 7, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategies);
        var updates = MakeUpdates(n, p, seed: 7);
        var global = new float[p];
        var copyTarget = new float[p];

        var copySeconds = Measure(() =>
        {
            foreach (var u in updates)
            {
                u.Delta.Span.CopyTo(copyTarget);
            }
        }, minSecondsPerCase, maxRepetitions, cancellationToken);
        var bytes = (double)n * p * sizeof(float);
        var copyGbps = bytes / copySeconds / 1e9;

        foreach (var spec in strategies)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var quadratic = spec.Name is "krum" or "multikrum" or "bulyan";
            if (quadratic && (double)n * n * p > MaxQuadraticWork)
            {
                yield return new AggregationThroughput(spec.Name, n, p, 0, copyGbps, 0, 0, $"n^2 p = {(double)n * n * p:0.#e0} pairwise work exceeds the {MaxQuadraticWork:0.#e0} budget");
                continue;
            }
            var (strategy, error) = TryCreate(spec);
            if (strategy is null)
            {
                yield return new AggregationThroughput(spec.Name, n, p, 0, copyGbps, 0, 0, error);
                continue;
            }
            var round = 0;
            var seconds = Measure(() => strategy.Aggregate(global, updates, new AggregationContext(++round, 1)), minSecondsPerCase, maxRepetitions, cancellationToken);
            var gbps = bytes / seconds / 1e9;
            yield return new AggregationThroughput(spec.Name, n, p, gbps, copyGbps, gbps / copyGbps, seconds, null);
        }
    }

    private static (IAggregationStrategy? Strategy, string? Error) TryCreate(StrategySpec spec)
    {
        try
        {
            return (StrategyFactory.Create(spec), null);
        }
        catch (ArgumentException ex)
        {
            return (null, ex.Message);
        }
    }

    private static ClientUpdate[] MakeUpdates(int n, int p, ulong seed)
    {
        var updates = new ClientUpdate[n];
        Parallel.For(0, n, i =>
        {
            var data = new float[p];
            // xorshift32 per update: fast enough for gigabytes, and varied enough that order statistics do real work.
            var x = (uint)(seed * 2654435761UL + (ulong)i * 40503UL) | 1u;
            for (var j = 0; j < data.Length; j++)
            {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                data[j] = ((x >> 8) * (1f / (1 << 24)) - 0.5f) * 0.01f;
            }
            updates[i] = new ClientUpdate(data, 100 + i);
        });
        return updates;
    }

    private static double Measure(Action action, double minSeconds, int maxRepetitions, CancellationToken cancellationToken)
    {
        // Warm-up until the JIT has promoted the hot loops to optimised code (tiered compilation recompiles a method
        // after about 30 calls), the buffers are paged in and pooled arrays exist: at least 2 calls or 0.3 s.
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 40 && (i < 2 || warm.Elapsed.TotalSeconds < 0.3); i++)
        {
            action();
        }
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || (total.Elapsed.TotalSeconds < minSeconds && times.Count < maxRepetitions))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
