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
    private readonly HashSet<int> _malicious;
    private readonly Dictionary<int, ClientData> _flipped = [];
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
        (_strategy, _proximalMu, _dpDelta) = strategy is null ? CreateStrategy(options.Strategy, options) : (strategy, 0, 0);
        if (_strategy is DpFedAvg)
        {
            _accountant = new RdpAccountant();
        }

        Partition = DataPartitioner.Create(options.Partition, train.Labels, train.ClassCount, options.Clients, options.Seed, options.DirichletAlpha);
        _clients = Partition.Select(indices => new ClientData(train, indices)).ToArray();
        _malicious = options.Attack is { } attack
            ? [.. DeterministicRandom.Derive(options.Seed, "attack/clients").SampleWithoutReplacement(options.Clients, (int)Math.Round(attack.Fraction * options.Clients))]
            : [];
        if (options.Attack is { FlipsLabels: true })
        {
            var flip = Enumerable.Range(0, train.ClassCount).Select(c => (byte)(train.ClassCount - 1 - c)).ToArray();
            foreach (var c in _malicious)
            {
                _flipped[c] = new ClientData(train, Partition[c], flip);
            }
        }

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

    /// <summary>The clients that behave maliciously (empty without an attack).</summary>
    public IReadOnlySet<int> MaliciousClients => _malicious;

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
                (deltas[i], results[i]) = TrainClient(round, sampled[i], training, ct);
                return ValueTask.CompletedTask;
            });
        trainClock.Stop();

        // Updates enter the strategy in sampled-client order, never completion order, so the result is reproducible.
        // As the coordinator does, a non-finite update (a diverged client) is refused, not aggregated.
        var updates = new List<ClientUpdate>(sampled.Length);
        for (var i = 0; i < sampled.Length; i++)
        {
            if (TensorPrimitives.IsFiniteAll(deltas[i]))
            {
                updates.Add(new ClientUpdate(deltas[i], results[i].Samples / training.Epochs));
            }
        }
        var refused = sampled.Length - updates.Count;
        string? aggregationError = null;
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
                aggregationError = ex.Message;
            }
        }
        else
        {
            aggregationError = "no finite update to aggregate";
        }
        if (before is not null)
        {
            TensorPrimitives.Subtract(_global, before, before);
            _lastGlobalChange = before;
        }

        double? epsilon = null;
        if (_accountant is not null && _strategy is DpFedAvg dp)
        {
            // Each round releases one sampled Gaussian mechanism with q = C (approximated as Poisson, see docs/privacy.md).
            _accountant.Step((double)_options.ClientsPerRound / _options.Clients, dp.NoiseMultiplier);
            epsilon = _accountant.GetEpsilon(_dpDelta).Epsilon;
        }
        var evaluation = await EvaluateGlobalAsync(cancellationToken);
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
            aggregationError);
    }

    /// <summary>
    /// One client's round: honest clients train on their data; malicious ones follow <see cref="SimulationOptions.Attack"/>
    /// (and still claim their real sample count, as a cheat would).
    /// </summary>
    private (float[] Delta, TrainingResult Result) TrainClient(int round, int client, TrainingOptions training, CancellationToken cancellationToken)
    {
        var attack = _malicious.Contains(client) ? _options.Attack : null;
        var seed = DeterministicRandom.Derive(_options.Seed, "round/train", ((long)round << 32) | (uint)client).NextUInt64();
        if (attack is { Trains: false })
        {
            var delta = new float[_global.Length];
            if (attack.Kind == AttackKind.Gaussian)
            {
                var rng = DeterministicRandom.Derive(seed, "attack/gaussian");
                for (var j = 0; j < delta.Length; j++)
                {
                    delta[j] = (float)(rng.NextGaussian() * attack.Sigma);
                }
            }
            else if (attack.Stale && _lastGlobalChange is not null)
            {
                _lastGlobalChange.CopyTo(delta, 0);
            }
            return (delta, new TrainingResult(_clients[client].Count * training.Epochs, 0, double.NaN, TimeSpan.Zero));
        }

        var model = Rent();
        try
        {
            model.Load(_global);
            var data = attack is { FlipsLabels: true } ? _flipped[client] : _clients[client];
            var result = LocalTrainer.Train(model, data, training with { ProximalMu = _proximalMu }, seed, cancellationToken);
            var delta = model.ToFlat();
            TensorPrimitives.Subtract(delta, _global, delta);
            if (attack is { Kind: AttackKind.SignFlip })
            {
                TensorPrimitives.Multiply(delta, (float)-attack.Scale, delta);
            }
            else if (attack is { Kind: AttackKind.Scaled })
            {
                TensorPrimitives.Multiply(delta, (float)attack.Scale, delta);
            }
            return (delta, result);
        }
        finally
        {
            _pool.Add(model);
        }
    }

    /// <summary>The first rule <paramref name="spec"/> breaks, naming the field, or null if the strategy can be built.</summary>
    public static string? StrategyError(StrategySpec spec, SimulationOptions options)
    {
        try
        {
            CreateStrategy(spec, options);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Builds the server strategy. Two names carry a client-side or accounting part the factory does not know:
    /// "fedprox" (FedAvg plus the proximal mu in every client's loss) and "dpfedavg" (whose expected_clients
    /// defaults to m = CK, and whose "delta" is the accountant's delta, default 1e-5).
    /// </summary>
    private static (IAggregationStrategy Strategy, double ProximalMu, double DpDelta) CreateStrategy(StrategySpec spec, SimulationOptions options)
    {
        if (string.Equals(spec.Name, "fedprox", StringComparison.Ordinal))
        {
            var mu = spec.Parameters.TryGetValue("mu", out var m) ? m : 0.01;
            if (!(mu >= 0) || double.IsInfinity(mu))
            {
                throw new ArgumentException($"strategy.parameters.mu: must be a finite number >= 0, got {mu}");
            }
            return (StrategyFactory.Create(new StrategySpec("fedavg", Without(spec.Parameters, "mu"))), mu, 0);
        }
        if (string.Equals(spec.Name, DpFedAvg.StrategyName, StringComparison.Ordinal))
        {
            var delta = spec.Parameters.TryGetValue("delta", out var d) ? d : 1e-5;
            if (!(delta > 0 && delta < 1))
            {
                throw new ArgumentException($"strategy.parameters.delta: must be in (0, 1), got {delta}");
            }
            var parameters = Without(spec.Parameters, "delta");
            parameters.TryAdd("expected_clients", options.ClientsPerRound);
            return (StrategyFactory.Create(new StrategySpec(spec.Name, parameters)), 0, delta);
        }
        return (StrategyFactory.Create(spec), 0, 0);
    }

    private static Dictionary<string, double> Without(IReadOnlyDictionary<string, double> parameters, string key) =>
        parameters.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

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

    private static double TrainedLoss(TrainingResult[] results)
    {
        var trained = results.Where(r => r.Steps > 0).ToArray();
        var n = trained.Sum(r => r.Samples);
        return n == 0 ? double.NaN : trained.Sum(r => r.MeanLoss * r.Samples) / n;
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
        foreach (var c in _flipped.Values)
        {
            c.Dispose();
        }
    }
}
