using Microsoft.Extensions.Logging;
using Skein.Core;
using Skein.Learning;
using Skein.Learning.Data;
using Skein.Learning.Tasks;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Ledger;

namespace Skein.Coordinator.Rounds;

/// <summary>
/// What a coordinator evaluates global models on: a public image test set (its IDX files, checked; the tensors are
/// built once by the evaluator, so no float copy is held beside them), or public held-out text.
/// </summary>
public sealed record EvaluationSet(IdxArray? Images, IdxArray? Labels, byte[]? Text);

/// <summary>
/// Tests every new global model of the hosted tasks on a public test set and records its accuracy and loss in the
/// index, as rounds settle (one model at a time, off the round engines' path): the curves of the API, the console
/// and the demo. A restart resumes at the first round without a metric.
/// </summary>
public sealed partial class ModelEvaluator(CoordinatorContext coordinator, EvaluationSet data, ILogger logger)
{
    // The IDX bytes are let go once the tensors hold them: the evaluator lives as long as the coordinator.
    private EvaluationSet _data = data;

    public static EvaluationSet Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var images = Path.Combine(folder, "eval-images-idx3-ubyte");
        var labels = Path.Combine(folder, "eval-labels-idx1-ubyte");
        if (File.Exists(images) && File.Exists(labels))
        {
            var (pixels, tags) = (IdxFile.Read(images), IdxFile.Read(labels));
            LabeledImages.CheckIdx(pixels, tags, "eval");
            return new EvaluationSet(pixels, tags, null);
        }
        var texts = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal).ToArray() : [];
        if (texts.Length > 0)
        {
            var text = TaskModels.JoinText(texts.Select(File.ReadAllText));
            return new EvaluationSet(null, null, text[..Math.Min(text.Length, MaxTextBytes)]);
        }
        throw new FileNotFoundException($"--eval-data: {folder} must hold eval-images-idx3-ubyte and eval-labels-idx1-ubyte (IDX), or .txt files for fine-tuning tasks", images);
    }

    /// <summary>The public held-out text a coordinator scores each fine-tuning round's model on (its first bytes).</summary>
    public const int MaxTextBytes = 48 * 1024;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var test = _data.Images is { } images && _data.Labels is { } labels ? ClientData.FromIdx(images, labels, "eval") : null;
        _data = _data with { Images = null, Labels = null };
        var models = new Dictionary<ModelKind, TorchModel>();
        var workbenches = new Dictionary<long, FineTuningWorkbench>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var evaluated = false;
                foreach (var hosted in coordinator.Index.Tasks())
                {
                    evaluated |= await EvaluateTaskAsync(hosted.TaskId, hosted.SpecJson, test, models, workbenches, cancellationToken);
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
            foreach (var w in workbenches.Values)
            {
                w.Dispose();
            }
        }
    }

    private async Task<bool> EvaluateTaskAsync(long taskId, string specJson, ClientData? test, Dictionary<ModelKind, TorchModel> models,
        Dictionary<long, FineTuningWorkbench> workbenches, CancellationToken cancellationToken)
    {
        var id = (ulong)taskId;
        var spec = TaskSpec.Parse(specJson);
        var kind = default(ModelKind);
        var usable = spec.IsFineTuning ? _data.Text is not null : test is not null && ModelNames.TryParse(spec.Model, out kind);
        if (!usable || await coordinator.Ledger.GetTaskAsync(id, cancellationToken) is not { } task)
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
        var layout = TaskModels.Layout(spec);
        var bytes = await coordinator.Blobs.ReadAllAsync(round.NewModelHash.ToString()[2..], cancellationToken);
        var flat = layout.FromSafeTensors(SafeTensors.Parse(bytes));
        if (spec.IsFineTuning)
        {
            // For a fine-tuning task the round's "accuracy" is top-1 next-byte accuracy and its "loss" is bits per byte.
            if (!workbenches.TryGetValue(taskId, out var bench))
            {
                var baseBytes = await coordinator.Blobs.ReadAllAsync(spec.Model.Base!, cancellationToken);
                bench = FineTuningWorkbench.Open(spec, baseBytes);
                workbenches[taskId] = bench;
            }
            var bpc = await Task.Run(() => bench.Bpc(flat, _data.Text, cancellationToken), cancellationToken);
            coordinator.Index.PutMetric(id, next, bpc.Accuracy, bpc.BitsPerByte);
            LogEvaluated(logger, id, next, bpc.Accuracy);
            return true;
        }
        if (!models.TryGetValue(kind, out var model))
        {
            model = TorchModel.Create(kind);
            models[kind] = model;
        }
        model.Load(flat);
        var evaluation = await Task.Run(() =>
        {
            try
            {
                return Evaluator.Evaluate(model, test!, cancellationToken: cancellationToken);
            }
            finally
            {
                // A batch's activations are freed into malloc's heap, where they would stay resident between rounds.
                NativeHeap.Trim();
            }
        }, cancellationToken);
        coordinator.Index.PutMetric(id, next, evaluation.Accuracy, evaluation.Loss);
        LogEvaluated(logger, id, next, evaluation.Accuracy);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "task {Task} round {Round}: test accuracy {Accuracy:0.0000}")]
    private static partial void LogEvaluated(ILogger logger, ulong task, uint round, double accuracy);
}
