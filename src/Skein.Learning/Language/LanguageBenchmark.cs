using Skein.Core;

namespace Skein.Learning.Language;

/// <summary>Training throughput and upload sizes of one model size, full or with a LoRA adapter.</summary>
public sealed record LanguageBenchmarkResult(
    TransformerConfig Model,
    LoraConfig? Lora,
    int Steps,
    long Tokens,
    TimeSpan Elapsed,
    int FullParameters,
    int TrainableParameters,
    long FullUploadBytes,
    long AdapterUploadBytes)
{
    /// <summary>Bytes (tokens) trained on per second, after one untimed warm-up step.</summary>
    public double TokensPerSecond => Elapsed > TimeSpan.Zero ? Tokens / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// A short training benchmark for <c>skein bench train --model transformer-tiny|transformer-small [--lora]</c>:
/// tokens per second, and what a client uploads (safetensors size) for the full model against an adapter.
/// </summary>
public static class LanguageBenchmark
{
    public static LanguageBenchmarkResult Run(TransformerConfig model, LoraConfig? lora, int steps, int batchSize, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        // Throughput does not depend on the text; seeded bytes keep the run reproducible.
        var corpus = new byte[64 * 1024];
        var rng = DeterministicRandom.Derive(seed, "bench/corpus");
        for (var i = 0; i < corpus.Length; i++)
        {
            corpus[i] = (byte)rng.NextInt(256);
        }

        using var transformer = TransformerModel.Create(model);
        var baseFlat = model.InitialParameters(seed);
        transformer.Load(baseFlat);
        using var adapter = lora is null ? null : LoraAdapter.Create(model, lora);
        long adapterBytes = 0;
        var trainable = baseFlat.Length;
        if (adapter is not null)
        {
            var adapterFlat = lora!.InitialParameters(model, seed);
            adapter.Load(adapterFlat);
            transformer.Attach(adapter);
            adapterBytes = adapter.Layout.ToSafeTensors(adapterFlat).LongLength;
            trainable = adapter.Trainable.Sum(p => (int)p.numel());
        }
        var options = new LanguageTrainingOptions(1, batchSize, 1e-3);
        LanguageTrainer.Train(transformer, corpus, options, seed, cancellationToken);
        var result = LanguageTrainer.Train(transformer, corpus, options with { Steps = steps }, seed + 1, cancellationToken);
        return new LanguageBenchmarkResult(model, lora, steps, result.Tokens, result.Elapsed, baseFlat.Length, trainable,
            transformer.Layout.ToSafeTensors(baseFlat).LongLength, adapterBytes);
    }
}
