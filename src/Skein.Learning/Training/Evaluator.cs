using Skein.Learning.Models;
using static TorchSharp.torch;

namespace Skein.Learning.Training;

/// <summary>Loss and accuracy of a model on a labelled set.</summary>
public readonly record struct Evaluation(double Loss, double Accuracy, int Count, int Correct);

/// <summary>Evaluates a model without gradients, in fixed-size batches.</summary>
public static class Evaluator
{
    /// <summary>Loss and accuracy of <paramref name="model"/> on <paramref name="data"/>, <paramref name="batchSize"/> examples per forward pass (0: the model's <see cref="TorchModel.EvaluationBatchSize"/>).</summary>
    public static Evaluation Evaluate(TorchModel model, ClientData data, int batchSize = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        if (batchSize == 0)
        {
            batchSize = model.EvaluationBatchSize;
        }
        var module = model.Module;
        module.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (var start = 0; start < data.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var length = Math.Min(batchSize, data.Count - start);
            var xb = data.Range(start, length);
            var yb = data.Labels.narrow(0, start, length);
            var logits = module.call(xb);
            lossSum += nn.functional.cross_entropy(logits, yb, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(yb).sum().item<long>();
        }
        return new Evaluation(data.Count == 0 ? 0 : lossSum / data.Count, data.Count == 0 ? 0 : (double)correct / data.Count, data.Count, (int)correct);
    }
}
