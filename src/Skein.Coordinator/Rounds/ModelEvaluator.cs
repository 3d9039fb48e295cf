using Microsoft.Extensions.Logging;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Ledger;

namespace Skein.Coordinator.Rounds;

/// <summary>
/// Tests every new global model of the hosted tasks on a public test set and records its accuracy and loss in the
/// index, as rounds settle (one model at a time, off the round engines' path): the curves of the API, the console
/// and the demo. A restart resumes at the first round without a metric.
/// </summary>
public sealed partial class ModelEvaluator(CoordinatorContext coordinator, LabeledImages data, ILogger logger)
{
    public static LabeledImages Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var images = Path.Combine(folder, "eval-images-idx3-ubyte");
        var labels = Path.Combine(folder, "eval-labels-idx1-ubyte");
        return File.Exists(images) && File.Exists(labels)
            ? LabeledImages.FromIdx(IdxFile.Read(images), IdxFile.Read(labels), "eval")
            : throw new FileNotFoundException($"--eval-data: {folder} must hold eval-images-idx3-ubyte and eval-labels-idx1-ubyte (IDX)", images);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var test = new ClientData(data, Enumerable.Range(0, data.Count).ToArray());
        var models = new Dictionary<ModelKind, TorchModel>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var evaluated = false;
                foreach (var hosted in coordinator.Index.Tasks())
                {
                    evaluated |= await EvaluateTaskAsync(hosted.TaskId, hosted.SpecJson, test, models, cancellationToken);
                }
                if (!evaluated)
                {
                    await Task.Delay(250, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // shutting down
        }
        finally
        {
            foreach (var m in models.Values)
            {
                m.Dispose();
            }
        }
    }

    private async Task<bool> EvaluateTaskAsync(long taskId, string specJson, ClientData test, Dictionary<ModelKind, TorchModel> models, CancellationToken cancellationToken)
    {
        var id = (ulong)taskId;
        var spec = TaskSpec.Parse(specJson);
        if (!ModelNames.TryParse(spec.Model, out var kind) || await coordinator.Ledger.GetTaskAsync(id, cancellationToken) is not { } task)
        {
            return false;
        }
        var done = coordinator.Index.Metrics(id);
        var next = Enumerable.Range(1, (int)task.SettledRounds).Select(r => (uint)r).FirstOrDefault(r => !done.ContainsKey(r));
        if (next == 0)
        {
            return false;
        }
        var round = await coordinator.Ledger.GetRoundAsync(id, next, cancellationToken);
        if (round is null)
        {
            return false;
        }
        var layout = ModelLayouts.For(kind);
        if (!models.TryGetValue(kind, out var model))
        {
            model = TorchModel.Create(kind);
            models[kind] = model;
        }
        var bytes = await coordinator.Blobs.ReadAllAsync(round.NewModelHash.ToString()[2..], cancellationToken);
        model.Load(layout.FromSafeTensors(SafeTensors.Parse(bytes)));
        var evaluation = await Task.Run(() => Evaluator.Evaluate(model, test, cancellationToken: cancellationToken), cancellationToken);
        coordinator.Index.PutMetric(id, next, evaluation.Accuracy, evaluation.Loss);
        LogEvaluated(logger, id, next, evaluation.Accuracy);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "task {Task} round {Round}: test accuracy {Accuracy:0.0000}")]
    private static partial void LogEvaluated(ILogger logger, ulong task, uint round, double accuracy);
}
