using System.Diagnostics;
using System.Numerics;
using Skein.Core;
using Skein.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Skein.Learning.Language;

/// <summary>The optimisers language-model training offers.</summary>
public enum LanguageOptimizer
{
    /// <summary>AdamW (Loshchilov and Hutter 2019), betas 0.9 and 0.999.</summary>
    AdamW,

    /// <summary>Plain SGD without momentum.</summary>
    Sgd,
}

/// <summary>Language-model training hyper-parameters: N steps on batches of random windows of the context length.</summary>
public sealed record LanguageTrainingOptions(int Steps, int BatchSize, double LearningRate)
{
    public LanguageOptimizer Optimizer { get; init; } = LanguageOptimizer.AdamW;

    /// <summary>AdamW's decoupled weight decay, on every trained parameter (0: none).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Returns the first rule a value breaks, naming the option, or null if all hold.</summary>
    public string? Validate()
    {
        if (Steps < 0)
        {
            return $"steps must be >= 0, got {Steps}";
        }
        if (BatchSize < 1)
        {
            return $"batch size must be >= 1, got {BatchSize}";
        }
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            return $"learning rate must be a finite number > 0, got {LearningRate}";
        }
        return !(WeightDecay >= 0) || double.IsInfinity(WeightDecay) ? $"weight decay must be a finite number >= 0, got {WeightDecay}" : null;
    }
}

/// <summary>What one language-model training run did; losses are mean cross-entropy in nats per byte.</summary>
public sealed record LanguageTrainingResult(int Steps, long Tokens, double MeanLoss, double LastLoss, TimeSpan Elapsed);

/// <summary>
/// Next-byte training on a byte corpus: each step a batch of windows at offsets drawn by a seeded generator, so
/// that two runs with one seed on CPU (one libtorch thread, see <see cref="Training.TorchRuntime"/>) give
/// bit-identical parameters.
/// </summary>
public static class LanguageTrainer
{
    /// <summary>
    /// Trains <paramref name="model"/>'s attached adapter if it has one, with the base frozen, else the whole
    /// model. No dropout: the runs stay deterministic and the models are small.
    /// </summary>
    public static LanguageTrainingResult Train(TransformerModel model, ReadOnlyMemory<byte> corpus, LanguageTrainingOptions options, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Config.IsByteLevel)
        {
            throw new ArgumentException(
                $"a byte corpus needs a byte-level model (vocabulary {TransformerConfig.ByteVocabulary}), this one has {model.Config.Vocabulary} tokens: tokenize the text and use {nameof(TrainTokens)}",
                nameof(model));
        }
        return TrainCore(model, corpus, "bytes", options, seed, cancellationToken);
    }

    /// <summary>
    /// <see cref="Train"/> on token ids, e.g. an imported GPT-2's (see <see cref="Gpt2Tokenizer"/>); every id must
    /// be in [0, vocabulary).
    /// </summary>
    public static LanguageTrainingResult TrainTokens(TransformerModel model, ReadOnlyMemory<int> tokens, LanguageTrainingOptions options, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var vocabulary = model.Config.Vocabulary;
        var span = tokens.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if ((uint)span[i] >= (uint)vocabulary)
            {
                throw new ArgumentException($"token {i} is id {span[i]}, outside the model's vocabulary [0, {vocabulary})", nameof(tokens));
            }
        }
        return TrainCore(model, tokens, "tokens", options, seed, cancellationToken);
    }

    private static LanguageTrainingResult TrainCore<T>(TransformerModel model, ReadOnlyMemory<T> corpus, string unit, LanguageTrainingOptions options, ulong seed, CancellationToken cancellationToken)
        where T : struct, IBinaryInteger<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }
        var context = model.Config.Context;
        if (corpus.Length < context + 1)
        {
            throw new ArgumentException($"the corpus has {corpus.Length} {unit}, a window needs {context + 1}", nameof(corpus));
        }

        var stopwatch = Stopwatch.StartNew();
        var adapter = model.Adapter;
        var trained = adapter is null ? model.Parameters.ToArray() : adapter.Trainable.ToArray();
        if (adapter is not null)
        {
            foreach (var p in model.Parameters)
            {
                p.requires_grad = false;
            }
        }
        using var optimizer = options.Optimizer == LanguageOptimizer.AdamW
            ? (IParameterStepper)new AdamWStepper(trained, options.LearningRate, options.WeightDecay)
            : new SgdStepper(trained, options.LearningRate);
        try
        {
            model.Module.train();
            var (lossSum, lastLoss) = RunSteps(model, corpus, options, seed, optimizer, cancellationToken);
            return new LanguageTrainingResult(options.Steps, (long)options.Steps * options.BatchSize * context,
                options.Steps == 0 ? 0 : lossSum / options.Steps, lastLoss, stopwatch.Elapsed);
        }
        finally
        {
            if (adapter is not null)
            {
                foreach (var p in model.Parameters)
                {
                    p.requires_grad = true;
                }
            }
        }
    }

    private static (double LossSum, double LastLoss) RunSteps<T>(TransformerModel model, ReadOnlyMemory<T> corpus, LanguageTrainingOptions options,
        ulong seed, IParameterStepper optimizer, CancellationToken cancellationToken)
        where T : struct, IBinaryInteger<T>
    {
        var context = model.Config.Context;
        var rng = DeterministicRandom.Derive(seed, "language/windows");
        // One pair of buffers for the run: each step overwrites them and copies them into fresh tensors.
        var inputs = new long[options.BatchSize * context];
        var targets = new long[inputs.Length];
        var shape = new long[] { options.BatchSize, context };
        double lossSum = 0, lastLoss = 0;
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ids = corpus.Span;
            for (var b = 0; b < options.BatchSize; b++)
            {
                var window = ids.Slice(rng.NextInt(ids.Length - context), context + 1);
                var row = b * context;
                for (var t = 0; t < context; t++)
                {
                    inputs[row + t] = long.CreateTruncating(window[t]);
                    targets[row + t] = long.CreateTruncating(window[t + 1]);
                }
            }
            using var scope = NewDisposeScope();
            var x = tensor(inputs, shape);
            var y = tensor(targets, shape);
            optimizer.ZeroGrad();
            var logits = model.Forward(x);
            var loss = nn.functional.cross_entropy(logits.view(-1, model.Config.Vocabulary), y.view(-1));
            loss.backward();
            optimizer.Step();
            lastLoss = loss.item<float>();
            lossSum += lastLoss;
        }
        return (lossSum, lastLoss);
    }
}
