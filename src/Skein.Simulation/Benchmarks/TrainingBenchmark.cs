using System.Diagnostics;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;

namespace Skein.Simulation.Benchmarks;

/// <summary>One model's local training throughput, alone and with several clients training at once.</summary>
public sealed record TrainingThroughput(
    string Model,
    int BatchSize,
    int Samples,
    int Workers,
    double SamplesPerSecond,
    double SingleWorkerSamplesPerSecond,
    double Speedup,
    double NodeSamplesPerSecond);

/// <summary>
/// Measures local training throughput (samples per second, forward and backward and SGD step) the way the
/// runner trains: the same samples once on one worker, then split among <c>workers</c> clients trained at once.
/// Both are measured in the same run, after a warm-up, so the speed-up is a same-run ratio. Then the same samples
/// once more as a node holds them (<see cref="ClientData.FromIdx"/>: the pixels' bytes, normalised a batch at a
/// time), which trains to the same bits: the cost of holding a node's data at a quarter of its float size.
/// </summary>
public static class TrainingBenchmark
{
    public static async Task<TrainingThroughput> MeasureAsync(LabeledImages train, ModelKind kind, int samples, int batchSize, int workers, ulong seed,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, workers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        samples = Math.Min(samples, train.Count);
        var options = new TrainingOptions(1, batchSize, 0.01);

        var models = Enumerable.Range(0, workers).Select(_ => TorchModel.Create(kind)).ToArray();
        var initial = TorchModel.InitialParameters(models[0].Layout, seed);
        var whole = new ClientData(train, Enumerable.Range(0, samples).ToArray());
        var parts = Enumerable.Range(0, workers)
            .Select(w => new ClientData(train, Enumerable.Range(0, samples).Where(i => i % workers == w).ToArray()))
            .ToArray();
        try
        {
            using (var warmup = new ClientData(train, Enumerable.Range(0, Math.Min(samples, batchSize * 20)).ToArray()))
            {
                foreach (var m in models)
                {
                    m.Load(initial);
                    LocalTrainer.Train(m, warmup, options, seed, cancellationToken);
                }
            }

            models[0].Load(initial);
            var clock = Stopwatch.StartNew();
            LocalTrainer.Train(models[0], whole, options, seed, cancellationToken);
            var single = samples / clock.Elapsed.TotalSeconds;

            foreach (var m in models)
            {
                m.Load(initial);
            }
            clock.Restart();
            await Parallel.ForAsync(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, (w, ct) =>
            {
                LocalTrainer.Train(models[w], parts[w], options, seed, ct);
                return ValueTask.CompletedTask;
            });
            var parallel = samples / clock.Elapsed.TotalSeconds;

            using var asNode = AsNodeHoldsIt(train, samples);
            models[0].Load(initial);
            clock.Restart();
            LocalTrainer.Train(models[0], asNode, options, seed, cancellationToken);
            var node = samples / clock.Elapsed.TotalSeconds;
            return new TrainingThroughput(kind.ToName(), batchSize, samples, workers, parallel, single, parallel / single, node);
        }
        finally
        {
            foreach (var m in models)
            {
                m.Dispose();
            }
            whole.Dispose();
            foreach (var p in parts)
            {
                p.Dispose();
            }
        }
    }

    // The first examples as IDX bytes again: Normalize maps the 256 pixel values to 256 distinct floats, so rounding
    // its inverse recovers each byte exactly.
    private static ClientData AsNodeHoldsIt(LabeledImages train, int samples)
    {
        var d = train.FeatureCount;
        var pixels = new byte[samples * d];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)Math.Clamp(Math.Round((train.Features[i] + LabeledImages.NormalizeShift) / LabeledImages.NormalizeScale), 0, 255);
        }
        return ClientData.FromIdx(new IdxArray([samples, 1, d], pixels), new IdxArray([samples], train.Labels[..samples]), "bench");
    }
}
