using System.Numerics.Tensors;
using Skein.Learning.Models;
using Skein.Learning.Training;

namespace Skein.Learning.Validation;

/// <summary>
/// The arithmetic of the <c>cohort</c> score rule, without a model. An update is judged against the other updates
/// of its round, because on label-skewed data an honest client's model alone is bad on the classes it never saw
/// (16% to 96% held-out accuracy on two-label MNIST shards), so no fixed accuracy bar separates it from an attacker.
/// The signal is the held-out loss of global + update/n (the update's share of a FedAvg step) as a robust z-score
/// against the round's other shares (median and MAD; positive is worse):
/// <list type="bullet">
/// <item>harm alone: full marks up to z = 3, none from z = 6;</item>
/// <item>harm with size: an update whose share is harmful (z from 1 to 2) and whose L2 norm is 2 to 3 times the
/// round's median is scored down to 0 (norm bounding, Sun et al. 2019, "Can you really backdoor federated
/// learning?"). Size alone is no fault: on two-label shards an honest client whose classes the global model
/// neglects sends updates up to 10 times the median norm, and those are the ones that help most.</item>
/// </list>
/// The score is the product, in [0, 1].
/// </summary>
public static class CohortScore
{
    public const double LossZFull = 3;
    public const double LossZZero = 6;
    public const double HarmZFrom = 1;
    public const double HarmZFull = 2;
    public const double NormRatioFrom = 2;
    public const double NormRatioFull = 3;

    /// <summary>Scores per update from the held-out losses of their shares and their norms.</summary>
    public static double[] Compute(ReadOnlySpan<double> shareLosses, ReadOnlySpan<double> norms)
    {
        if (shareLosses.Length != norms.Length)
        {
            throw new ArgumentException($"{shareLosses.Length} losses but {norms.Length} norms", nameof(norms));
        }
        var n = shareLosses.Length;
        var scores = new double[n];
        var finiteLosses = Finite(shareLosses);
        var lossMedian = Median(finiteLosses);
        // A floor on the spread (1% of the median loss): near-identical shares, such as clones, must not turn noise
        // into huge z-scores.
        var lossMad = Math.Max(Mad(finiteLosses, lossMedian) * 1.4826, (0.01 * Math.Abs(lossMedian)) + 1e-12);
        var normMedian = Median(Finite(norms));
        for (var i = 0; i < n; i++)
        {
            if (!double.IsFinite(shareLosses[i]) || !double.IsFinite(norms[i]))
            {
                continue;
            }
            var z = n >= 3 ? (shareLosses[i] - lossMedian) / lossMad : 0;
            var ratio = normMedian > 0 ? norms[i] / normMedian : norms[i] > 0 ? double.PositiveInfinity : 1;
            var harm = 1 - Ramp(z, HarmZFrom, HarmZFull);
            var size = 1 - Ramp(ratio, NormRatioFrom, NormRatioFull);
            scores[i] = Ramp(z, LossZFull, LossZZero) * (1 - (harm * size));
        }
        return scores;
    }

    private static double[] Finite(ReadOnlySpan<double> values)
    {
        var list = new List<double>(values.Length);
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                list.Add(v);
            }
        }
        return [.. list];
    }

    /// <summary>1 up to <paramref name="full"/>, 0 from <paramref name="zero"/>, linear between.</summary>
    private static double Ramp(double x, double full, double zero) => x <= full ? 1 : x >= zero ? 0 : (zero - x) / (zero - full);

    public static double Median(ReadOnlySpan<double> values)
    {
        if (values.Length == 0)
        {
            return 0;
        }
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static double Mad(ReadOnlySpan<double> values, double median)
    {
        var deviations = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            deviations[i] = Math.Abs(values[i] - median);
        }
        return Median(deviations);
    }
}

/// <summary>How a validator scores a round's updates on its own held-out data, by the task's rule; scores in parts per million.</summary>
public static class UpdateScorer
{
    public static ulong[] Score(string rule, TorchModel model, ClientData heldout, ReadOnlySpan<float> global, IReadOnlyList<float[]> deltas, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(heldout);
        ArgumentNullException.ThrowIfNull(deltas);
        var weights = new float[global.Length];
        double[] scores;
        switch (rule)
        {
            case "accuracy":
                scores = new double[deltas.Count];
                for (var i = 0; i < deltas.Count; i++)
                {
                    TensorPrimitives.Add(deltas[i], global, weights);
                    model.Load(weights);
                    scores[i] = Evaluator.Evaluate(model, heldout, cancellationToken: cancellationToken).Accuracy;
                }
                break;
            case "cohort":
                var losses = new double[deltas.Count];
                var norms = new double[deltas.Count];
                var share = 1f / deltas.Count;
                for (var i = 0; i < deltas.Count; i++)
                {
                    TensorPrimitives.MultiplyAdd(deltas[i], share, global, weights);
                    model.Load(weights);
                    losses[i] = Evaluator.Evaluate(model, heldout, cancellationToken: cancellationToken).Loss;
                    norms[i] = TensorPrimitives.Norm(deltas[i]);
                }
                scores = CohortScore.Compute(losses, norms);
                break;
            default:
                throw new ArgumentException($"validation.score: unknown rule '{rule}'", nameof(rule));
        }
        return ToPartsPerMillion(scores);
    }

    /// <summary>Scores in [0, 1] as the ledger takes them (parts per million); anything else is clamped, NaN to 0.</summary>
    public static ulong[] ToPartsPerMillion(IEnumerable<double> scores) =>
        scores.Select(s => double.IsNaN(s) ? 0UL : (ulong)Math.Round(Math.Clamp(s, 0, 1) * 1_000_000)).ToArray();
}
