using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Skein.Aggregation;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;

namespace Skein.Simulation;

/// <summary>
/// Runs federated training in one process: the training set is partitioned among K clients whose data never
/// mixes, each round a seeded sample of them trains locally in parallel (one model instance per worker), and
/// the strategy combines their deltas into the next global model, which is then tested on the test set.
/// </summary>
public sealed class SimulationRunner : IDisposable
{
    private readonly SimulationOptions _options;
    private readonly IAggregationStrategy _strategy;
    private readonly ClientData[] _clients;
    private readonly ClientData[] _testChunks;
    private readonly ConcurrentBag<TorchModel> _pool = [];
    private readonly List<TorchModel> _allModels = [];
    private readonly List<RoundReport> _rounds = [];
    private readonly float[] _global;
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
        _strategy = strategy ?? new FedAvg();

        Partition = DataPartitioner.Create(options.Partition, train.Labels, train.ClassCount, options.Clients, options.Seed, options.DirichletAlpha);
        _clients = Partition.Select(indices => new ClientData(train, indices)).ToArray();

        var workers = Math.Min(options.Parallelism, Math.Max(options.ClientsPerRound, 1));
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
    }

    /// <summary>Per client, the indices of its training examples.</summary>
    public int[][] Partition { get; }

    public ParameterLayout Layout { get; }

    /// <summary>The current global parameters (a copy).</summary>
    public float[] GlobalParameters => (float[])_global.Clone();

    public IReadOnlyList<RoundReport> Rounds => _rounds;

    /// <summary>The clients sampled in <paramref name="round"/>: m of K without replacement, seeded by (seed, round).</summary>
    public int[] SampleClients(int round) =>
        DeterministicRandom.Derive(_options.Seed, "round/sample", round).SampleWithoutReplacement(_options.Clients, _options.ClientsPerRound);

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
        var last = _rounds.Count > 0 ? _rounds[^1] : null;
        int? targetRound = _options.TargetAccuracy is { } t ? _rounds.FirstOrDefault(r => r.Accuracy >= t)?.Round : null;
        return new SimulationReport(
            _options,
            _rounds.ToArray(),
            last?.Accuracy ?? 0,
            last?.Loss ?? 0,
            wallSeconds,
            _trainSeconds > 0 ? _trainSamples / _trainSeconds : 0,
            targetRound,
            Hashing.Sha256Hex(Layout.ToSafeTensors(_global)));
    }

    private async Task<RoundReport> RunRoundAsync(int round, CancellationToken cancellationToken)
    {
        var roundClock = Stopwatch.StartNew();
        var sampled = SampleClients(round);
        var deltas = new float[sampled.Length][];
        var results = new TrainingResult[sampled.Length];
        var training = _options.TrainingAt(round);

        var trainClock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, sampled.Length, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
            (i, ct) =>
            {
                var client = sampled[i];
                var model = Rent();
                try
                {
                    model.Load(_global);
                    var seed = DeterministicRandom.Derive(_options.Seed, "round/train", ((long)round << 32) | (uint)client).NextUInt64();
                    results[i] = LocalTrainer.Train(model, _clients[client], training, seed, ct);
                    var delta = model.ToFlat();
                    TensorPrimitives.Subtract(delta, _global, delta);
                    deltas[i] = delta;
                }
                finally
                {
                    _pool.Add(model);
                }
                return ValueTask.CompletedTask;
            });
        trainClock.Stop();

        // Updates enter the strategy in sampled-client order, never completion order, so the result is reproducible.
        var updates = new ClientUpdate[sampled.Length];
        for (var i = 0; i < sampled.Length; i++)
        {
            updates[i] = new ClientUpdate(deltas[i], results[i].Samples / training.Epochs);
        }
        _strategy.Aggregate(_global, updates, new AggregationContext(round, _options.Seed));

        var evaluation = await EvaluateGlobalAsync(cancellationToken);
        var samples = results.Sum(r => r.Samples);
        _trainSeconds += trainClock.Elapsed.TotalSeconds;
        _trainSamples += samples;
        return new RoundReport(
            round,
            evaluation.Accuracy,
            evaluation.Loss,
            roundClock.Elapsed.TotalSeconds,
            sampled.Length,
            samples,
            results.Sum(r => r.MeanLoss * r.Samples) / Math.Max(1, samples),
            trainClock.Elapsed.TotalSeconds,
            results.Max(r => r.Elapsed.TotalSeconds));
    }

    /// <summary>Test loss and accuracy of the current global model, the test set split across workers.</summary>
    public async Task<Evaluation> EvaluateGlobalAsync(CancellationToken cancellationToken = default)
    {
        var parts = new Evaluation[_testChunks.Length];
        await Parallel.ForAsync(0, _testChunks.Length, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
            (i, ct) =>
            {
                var model = Rent();
                try
                {
                    model.Load(_global);
                    parts[i] = Evaluator.Evaluate(model, _testChunks[i], cancellationToken: ct);
                }
                finally
                {
                    _pool.Add(model);
                }
                return ValueTask.CompletedTask;
            });
        var count = parts.Sum(p => p.Count);
        var correct = parts.Sum(p => p.Correct);
        var loss = parts.Sum(p => p.Loss * p.Count) / Math.Max(1, count);
        return new Evaluation(loss, (double)correct / Math.Max(1, count), count, correct);
    }

    private TorchModel Rent() =>
        _pool.TryTake(out var model) ? model : throw new InvalidOperationException("more concurrent workers than model instances");

    public void Dispose()
    {
        foreach (var m in _allModels)
        {
            m.Dispose();
        }
        foreach (var c in _clients)
        {
            c.Dispose();
        }
        foreach (var c in _testChunks)
        {
            c.Dispose();
        }
    }
}
