using System.Diagnostics;
using Skein.Core;
using Skein.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Skein.Learning.Training;

/// <summary>Local training hyper-parameters: E epochs of minibatch SGD with batch size B and learning rate lr.</summary>
public sealed record TrainingOptions(int Epochs, int BatchSize, double LearningRate)
{
    /// <summary>SGD momentum (0: plain SGD as in McMahan et al.).</summary>
    public double Momentum { get; init; }

    /// <summary>
    /// FedProx's proximal coefficient mu (Li et al. 2020): the local loss gains (mu/2)||w - w_global||^2, which
    /// keeps clients on heterogeneous data from drifting far from the global model. 0 disables it.
    /// </summary>
    public double ProximalMu { get; init; }

    /// <summary>Returns the first rule a value breaks, naming the option, or null if all hold.</summary>
    public string? Validate()
    {
        if (Epochs < 1)
        {
            return $"epochs must be >= 1, got {Epochs}";
        }
        if (BatchSize < 1)
        {
            return $"batch size must be >= 1, got {BatchSize}";
        }
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            return $"learning rate must be a finite number > 0, got {LearningRate}";
        }
        if (!(ProximalMu >= 0) || double.IsInfinity(ProximalMu))
        {
            return $"proximal mu must be a finite number >= 0, got {ProximalMu}";
        }
        return Momentum is < 0 or >= 1 ? $"momentum must be in [0, 1), got {Momentum}" : null;
    }
}

/// <summary>What one local training run did.</summary>
public sealed record TrainingResult(long Samples, int Steps, double MeanLoss, TimeSpan Elapsed);

/// <summary>Local training: seeded shuffles, minibatch SGD, cross-entropy loss.</summary>
public static class LocalTrainer
{
    public static TrainingResult Train(TorchModel model, ClientData data, TrainingOptions options, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var stopwatch = Stopwatch.StartNew();
        var module = model.Module;
        module.train();
        using var optimizer = new SgdStepper(model.Parameters, options.LearningRate, options.Momentum);
        var parameters = model.Parameters.ToArray();
        // FedProx anchors: the parameters the round started from (the global model).
        var anchors = options.ProximalMu > 0 ? parameters.Select(p => p.detach().clone()).ToArray() : [];
        using var mu = options.ProximalMu.ToScalar();
        try
        {
            var (samples, steps, lossSum) = RunEpochs(module, optimizer, parameters, anchors, mu, data, options, seed, cancellationToken);
            return new TrainingResult(samples, steps, samples == 0 ? 0 : lossSum / samples, stopwatch.Elapsed);
        }
        finally
        {
            foreach (var a in anchors)
            {
                a.Dispose();
            }
        }
    }

    private static (long Samples, int Steps, double LossSum) RunEpochs(nn.Module<Tensor, Tensor> module, SgdStepper optimizer,
        TorchSharp.Modules.Parameter[] parameters, Tensor[] anchors, Scalar mu, ClientData data, TrainingOptions options, ulong seed, CancellationToken cancellationToken)
    {
        var rng = DeterministicRandom.Derive(seed, "train/shuffle");
        var order = new long[data.Count];
        double lossSum = 0;
        long samples = 0;
        var steps = 0;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            rng.Shuffle(order.AsSpan());
            using var epochScope = NewDisposeScope();
            // A gather per batch, not a shuffled copy of the whole set per epoch: the same rows in the same order, at
            // the cost of one small gather a step, and a node never holds its data twice (skein bench memory).
            using var permutation = tensor(order);
            for (var start = 0; start < data.Count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var length = Math.Min(options.BatchSize, data.Count - start);
                var batch = permutation.narrow(0, start, length);
                var xb = data.Rows(batch);
                var yb = data.Labels.index_select(0, batch);
                optimizer.ZeroGrad();
                var loss = nn.functional.cross_entropy(module.call(xb), yb);
                loss.backward();
                if (anchors.Length > 0)
                {
                    // The gradient of (mu/2)||w - w0||^2 is mu (w - w0); adding it in place spares a second backward pass.
                    using var noGrad = no_grad();
                    for (var p = 0; p < parameters.Length; p++)
                    {
                        parameters[p].grad!.add_(parameters[p].sub(anchors[p]), mu);
                    }
                }
                optimizer.Step();
                lossSum += loss.item<float>() * length;
                samples += length;
                steps++;
            }
        }
        return (samples, steps, lossSum);
    }
}
