using System.Globalization;
using Skein.Learning.Language;

namespace Skein.Learning.Registry;

/// <summary>What pretraining a base model did: its parameters as safetensors and its held-out bits per byte.</summary>
public sealed record PretrainingResult(byte[] SafeTensors, LanguageTrainingResult Training, BpcResult HeldOut, int TrainedBytes, string Description);

/// <summary>Pretrains a byte-level base model on a corpus's first 95% and scores it on the last 5%, which it never sees.</summary>
public static class BasePretraining
{
    /// <summary>The share of the corpus, at its end, kept out of training and scored.</summary>
    public const double HeldOutFraction = 0.05;

    /// <summary>How a base pretrained with these settings is described in the registry: equal settings, equal text.</summary>
    public static string Describe(string corpusName, int corpusBytes, LanguageTrainingOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        var trainedBytes = (int)(corpusBytes * (1 - HeldOutFraction));
        return string.Create(CultureInfo.InvariantCulture,
            $"{corpusName}: first {trainedBytes} of {corpusBytes} bytes, {options.Steps} steps, batch {options.BatchSize}, {options.Optimizer} lr {options.LearningRate}, seed {seed}");
    }

    public static PretrainingResult Run(TransformerConfig config, string corpusName, ReadOnlyMemory<byte> corpus, LanguageTrainingOptions options, ulong seed,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var trainedBytes = (int)(corpus.Length * (1 - HeldOutFraction));
        using var model = TransformerModel.Create(config);
        model.Load(config.InitialParameters(seed));
        var training = LanguageTrainer.Train(model, corpus[..trainedBytes], options, seed, cancellationToken);
        var heldOut = BitsPerByte.Bpc(model, corpus.Span[trainedBytes..], cancellationToken: cancellationToken);
        var description = Describe(corpusName, corpus.Length, options, seed);
        var bytes = model.Layout.ToSafeTensors(model.ToFlat(), new Dictionary<string, string>
        {
            ["architecture"] = ModelRegistry.ArchitectureName(config),
            ["format"] = "pt",
        });
        return new PretrainingResult(bytes, training, heldOut, trainedBytes, description);
    }
}
