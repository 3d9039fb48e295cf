using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Skein.Aggregation;
using Skein.Aggregation.Privacy;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Simulation.Attacks;

namespace Skein.Simulation;

/// <summary>
/// Runs federated training in one process: the training set is partitioned among K clients whose data never
/// mixes, each round a seeded sample of them trains locally in parallel (one model instance per worker), and
/// the strategy combines their deltas into the next global model, which is then tested on the test set.
/// </summary>
/// <remarks>
/// A client costs nothing between rounds beyond its range in <see cref="Partition"/>: its examples are gathered
/// into tensors only while it trains, its delta lives in a pooled buffer until the round is aggregated, and no
/// step of a round is O(K). That is what lets 100,000 clients run in the memory of 100.
/// </remarks>
public sealed partial class SimulationRunner : IDisposable
{
    private readonly SimulationOptions _options;
    private readonly IAggregationStrategy _strategy;
    private readonly LabeledImages _train;
    private readonly ClientData[] _testChunks;
    private readonly ConcurrentBag<TorchModel> _pool = [];
    private readonly List<TorchModel> _allModels = [];
    private readonly List<RoundReport> _rounds = [];
    private readonly float[] _global;
    private readonly HashSet<int> _malicious;
    private readonly byte[]? _flip;
    private readonly int[]? _sampleable;
    private readonly int _clientsPerRound;
    private readonly DeltaPool _deltas;
    private readonly double _proximalMu;
    private readonly RdpAccountant? _accountant;
    private readonly double _dpDelta;
    private float[]? _lastGlobalChange;
    private double _trainSeconds;
    private long _trainSamples;

    public SimulationRunner(LabeledImages train, LabeledImages test, SimulationOptions options, IAggregationStrategy? strategy = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(train.Count);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }
        _options = options;
        _train = train;
        (_strategy, _proximalMu, _dpDelta) = strategy is null ? CreateStrategy(options.Strategy, options) : (strategy, 0, 0);
        if (strategy is null && _strategy is FedAvg)
        {
            // The workers are idle while the server averages; the parallel mean gives the same bits.
            _strategy = new FedAvg { MaxDegreeOfParallelism = options.Parallelism };
        }
        if (_strategy is DpFedAvg)
        {
            _accountant = new RdpAccountant();
        }

        Partition = DataPartitioner.CreatePartition(options.Partition, train.Labels, train.ClassCount, options.Clients, options.Seed, options.DirichletAlpha);
        // Clients without data are never sampled; when every client has some (K <= N), sampling is over all K as before.
        _sampleable = Partition.NonEmptyClients < Partition.Count ? Partition.NonEmptyClientIds() : null;
        _clientsPerRound = Math.Min(options.ClientsPerRound, Partition.NonEmptyClients);
        _malicious = options.Attack is { } attack
            ? [.. DeterministicRandom.Derive(options.Seed, "attack/clients").SampleWithoutReplacement(options.Clients, (int)Math.Round(attack.Fraction * options.Clients))]
            : [];
        if (options.Attack is { FlipsLabels: true })
        {
            _flip = Enumerable.Range(0, train.ClassCount).Select(c => (byte)(train.ClassCount - 1 - c)).ToArray();
        }

        var workers = Math.Min(options.Parallelism, Math.Max(_clientsPerRound, 1));
        var chunks = Math.Max(1, Math.Min(options.Parallelism, test.Count));
        _testChunks = Enumerable.Range(0, chunks)
            .Select(c => Enumerable.Range(0, test.Count).Where(i => i % chunks == c).ToArray())
            .Select(idx => new ClientData(test, idx))
            .ToArray();
        for (var i = 0; i < Math.Max(workers, chunks); i++)
        {
            var model = TorchModel.Create(options.Model);
            _allModels.Add(model);
            _pool.Add(model);
        }
        Layout = _allModels[0].Layout;
        _global = TorchModel.InitialParameters(Layout, options.Seed);
        _deltas = new DeltaPool(_global.Length);
    }

    /// <summary>The clients that behave maliciously (empty without an attack).</summary>
    public IReadOnlySet<int> MaliciousClients => _malicious;

    /// <summary>Per client, the indices of its training examples (ranges of one shared array, not copies).</summary>
    public ClientPartition Partition { get; }

    public ParameterLayout Layout { get; }

    /// <summary>The current global parameters (a copy).</summary>
    public float[] GlobalParameters => (float[])_global.Clone();

    public IReadOnlyList<RoundReport> Rounds => _rounds;

    /// <summary>Delta buffers allocated so far: at most the clients of one round, reused by every later round.</summary>
    public int DeltaBuffersAllocated => _deltas.Allocated;

    public async IAsyncEnumerable<RoundReport> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var round = _rounds.Count + 1; round <= _options.Rounds; round++)
        {
            var report = await RunRoundAsync(round, cancellationToken);
            _rounds.Add(report);
            yield return report;
            if (_options is { StopAtTarget: true, TargetAccuracy: { } target } && report.Accuracy >= target)
            {
                yield break;
            }
        }
    }

    public SimulationReport BuildReport(double wallSeconds)
    {
        var last = _rounds.LastOrDefault(r => r.Evaluated);
        int? targetRound = _options.TargetAccuracy is { } t ? _rounds.FirstOrDefault(r => r.Accuracy >= t)?.Round : null;
        return new SimulationReport(
            _options,
            _rounds.ToArray(),
            last?.Accuracy ?? 0,
            last?.Loss ?? 0,
            wallSeconds,
            _trainSeconds > 0 ? _trainSamples / _trainSeconds : 0,
            targetRound,
            Hashing.Sha256Hex(Layout.ToSafeTensors(_global)))
        {
            PeakMemoryBytes = PeakMemory.Bytes(),
        };
    }

    /// <summary>
    /// One round, in three timed phases: the clients' phase (each sampled client receives the global model,
    /// trains, and hands back a checked delta, in parallel), the server's phase (sampling before, aggregation and
    /// accounting after) and, in rounds that test, the evaluation.
    /// </summary>
    private async Task<RoundReport> RunRoundAsync(int round, CancellationToken cancellationToken)
    {
        var roundClock = Stopwatch.StartNew();
        var sampled = SampleClients(round);
        var deltas = new float[sampled.Length][];
        var finite = new bool[sampled.Length];
        var results = new TrainingResult[sampled.Length];
        var training = _options.TrainingAt(round);
        try
        {
            var trainClock = Stopwatch.StartNew();
            await Parallel.ForAsync(0, sampled.Length, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
                (i, ct) =>
                {
                    (deltas[i], results[i]) = TrainClient(round, sampled[i], training, ct);
                    // The check the coordinator makes on every upload, done here by the worker that made the delta.
                    finite[i] = TensorPrimitives.IsFiniteAll(deltas[i]);
                    return ValueTask.CompletedTask;
                });
            trainClock.Stop();

            var aggregationClock = Stopwatch.StartNew();
            var (refused, aggregationError, epsilon) = Aggregate(round, deltas, finite, results, training.Epochs);
            aggregationClock.Stop();

            var evaluated = _options.EvaluatesAt(round);
            var evaluationClock = Stopwatch.StartNew();
            var evaluation = evaluated ? await EvaluateGlobalAsync(cancellationToken) : new Evaluation(double.NaN, double.NaN, 0, 0);
            evaluationClock.Stop();

            var samples = results.Sum(r => r.Samples);
            _trainSeconds += trainClock.Elapsed.TotalSeconds;
            _trainSamples += results.Where(r => r.Steps > 0).Sum(r => r.Samples);
            return new RoundReport(
                round,
                evaluation.Accuracy,
                evaluation.Loss,
                roundClock.Elapsed.TotalSeconds,
                sampled.Length,
                sampled.Count(_malicious.Contains),
                samples,
                TrainedLoss(results),
                trainClock.Elapsed.TotalSeconds,
                results.Max(r => r.Elapsed.TotalSeconds),
                epsilon,
                refused,
                aggregationError)
            {
                AggregationSeconds = aggregationClock.Elapsed.TotalSeconds,
                EvaluationSeconds = evaluated ? evaluationClock.Elapsed.TotalSeconds : 0,
                Evaluated = evaluated,
                ClientTrainSecondsSum = results.Sum(r => r.Elapsed.TotalSeconds),
            };
        }
        finally
        {
            foreach (var d in deltas)
            {
                if (d is not null)
                {
                    _deltas.Return(d);
                }
            }
        }
    }

    /// <summary>Applies the round's finite deltas to the global model; returns what the round report says about it.</summary>
    private (int Refused, string? Error, double? Epsilon) Aggregate(int round, float[][] deltas, bool[] finite, TrainingResult[] results, int epochs)
    {
        // Updates enter the strategy in sampled-client order, never completion order, so the result is reproducible.
        // As the coordinator does, a non-finite update (a diverged client) is refused, not aggregated.
        var updates = new List<ClientUpdate>(deltas.Length);
        for (var i = 0; i < deltas.Length; i++)
        {
            if (finite[i])
            {
                updates.Add(new ClientUpdate(deltas[i], results[i].Samples / epochs));
            }
        }
        string? error = null;
        var before = _options.Attack is { Kind: AttackKind.FreeRider, Stale: true } ? (float[])_global.Clone() : null;
        if (updates.Count > 0)
        {
            try
            {
                _strategy.Aggregate(_global, updates, new AggregationContext(round, _options.Seed));
            }
            catch (ArgumentException ex)
            {
                // The strategy refused the round (e.g. an overflow, or too few updates for Krum) and left the
                // global model unchanged; the run goes on, and the report says why.
                error = ex.Message;
            }
        }
        else
        {
            error = "no finite update to aggregate";
        }
        if (before is not null)
        {
            TensorPrimitives.Subtract(_global, before, before);
            _lastGlobalChange = before;
        }

        double? epsilon = null;
        if (_accountant is not null && _strategy is DpFedAvg dp)
        {
            // Each round releases one sampled Gaussian mechanism with q = m / (clients that can be sampled), which is
            // C when every client holds data (approximated as Poisson, see docs/privacy.md).
            _accountant.Step((double)_clientsPerRound / Partition.NonEmptyClients, dp.NoiseMultiplier);
            epsilon = _accountant.GetEpsilon(_dpDelta).Epsilon;
        }
        return (deltas.Length - updates.Count, error, epsilon);
    }

    private TorchModel Rent() =>
        _pool.TryTake(out var model) ? model : throw new InvalidOperationException("more concurrent workers than model instances");

    public void Dispose()
    {
        foreach (var m in _allModels)
        {
            m.Dispose();
        }
        foreach (var c in _testChunks)
        {
            c.Dispose();
        }
    }
}
