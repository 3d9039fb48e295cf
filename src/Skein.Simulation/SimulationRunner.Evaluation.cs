using Skein.Learning.Training;

namespace Skein.Simulation;

public sealed partial class SimulationRunner
{
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
}
