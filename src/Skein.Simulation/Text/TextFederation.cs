using System.Diagnostics;
using System.Text;
using Skein.Learning.Language;

namespace Skein.Simulation.Text;

/// <summary>What <see cref="TextFederation"/> runs: the base model's size and pretraining, the federation's rounds and the adapters.</summary>
public sealed record TextFederationOptions
{
    public TransformerConfig Model { get; init; } = TransformerConfig.Tiny;

    /// <summary>Steps of pretraining the base model on the base corpus.</summary>
    public int PretrainSteps { get; init; } = 1_500;

    public double PretrainLearningRate { get; init; } = 3e-3;

    public int Rounds { get; init; } = 8;

    /// <summary>Steps each trainer takes on its own text per round.</summary>
    public int LocalSteps { get; init; } = 40;

    public int BatchSize { get; init; } = 16;

    public double LearningRate { get; init; } = 3e-3;

    public LoraConfig Lora { get; init; } = LoraConfig.Default with { FreezeA = true };

    public LoraAggregationMode Mode { get; init; } = LoraAggregationMode.Exact;

    /// <summary>Held-out bytes scored for BPC (the start of the validators' concatenated held-out text).</summary>
    public int HeldOutBytes { get; init; } = 48 * 1024;

    public ulong Seed { get; init; } = 42;
}

/// <summary>The BPC of the held-out text after one round of the federation.</summary>
public sealed record TextRound(int Round, double Bpc, double Seconds);

/// <summary>
/// The result: held-out bits per byte of the base model, of the federation's final model, and of each trainer's
/// adapter trained on its own text alone for as many steps (the benefit of training together).
/// </summary>
public sealed record TextFederationReport(double BaseBpc, double FinalBpc, IReadOnlyList<double> LocalOnlyBpc, IReadOnlyList<TextRound> Rounds,
    double PretrainSeconds, double FederationSeconds, double LocalOnlySeconds, int AdapterParameters, int BaseParameters)
{
    public double LocalOnlyMedian => LocalOnlyBpc.Order().ElementAt(LocalOnlyBpc.Count / 2);

    /// <summary>How much lower the final model's BPC is than the base's (0.1: 10% lower).</summary>
    public double ImprovementOverBase => 1 - (FinalBpc / BaseBpc);
}

/// <summary>
/// Federated LoRA fine-tuning in one process, the pipeline the text tasks run over the network: a base model is
/// pretrained on a base corpus, trainers fine-tune adapters on their own texts each round from the global adapter,
/// the adapters are aggregated (weighted by text length), and held-out text is scored in bits per byte. Beside it,
/// each trainer trains alone for the same number of steps, so that the benefit of training together is measured.
/// </summary>
public static class TextFederation
{
    public static TextFederationReport Run(ReadOnlyMemory<byte> baseCorpus, IReadOnlyList<ReadOnlyMemory<byte>> trainerTexts, ReadOnlyMemory<byte> heldOut,
        TextFederationOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainerTexts);
        ArgumentNullException.ThrowIfNull(options);
        if (trainerTexts.Count == 0)
        {
            throw new ArgumentException("trainers: at least one trainer's text is needed", nameof(trainerTexts));
        }
        var config = options.Model;
        var scored = heldOut[..Math.Min(heldOut.Length, options.HeldOutBytes)];
        using var model = TransformerModel.Create(config);

        var clock = Stopwatch.StartNew();
        model.Load(config.InitialParameters(options.Seed));
        LanguageTrainer.Train(model, baseCorpus, new LanguageTrainingOptions(options.PretrainSteps, options.BatchSize, options.PretrainLearningRate), options.Seed, cancellationToken);
        var baseFlat = model.ToFlat();
        var pretrainSeconds = clock.Elapsed.TotalSeconds;
        var baseBpc = BitsPerByte.Bpc(model, scored.Span, cancellationToken: cancellationToken).BitsPerByte;
        log?.Invoke($"base model: {options.PretrainSteps} steps in {pretrainSeconds:0.0} s, held-out BPC {baseBpc:0.0000}");

        using var adapter = LoraAdapter.Create(config, options.Lora);
        model.Attach(adapter);
        var initial = options.Lora.InitialParameters(config, options.Seed);
        var global = initial;
        var weights = trainerTexts.Select(t => (double)t.Length).ToArray();
        var local = new LanguageTrainingOptions(options.LocalSteps, options.BatchSize, options.LearningRate);
        var rounds = new List<TextRound>();
        clock.Restart();
        for (var r = 1; r <= options.Rounds; r++)
        {
            var round = Stopwatch.StartNew();
            var updates = new List<float[]>(trainerTexts.Count);
            for (var t = 0; t < trainerTexts.Count; t++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                adapter.Load(global);
                LanguageTrainer.Train(model, trainerTexts[t], local, Derive(options.Seed, r, t), cancellationToken);
                updates.Add(adapter.ToFlat());
            }
            global = LoraAggregation.Aggregate(adapter.Layout, updates, weights, options.Mode);
            adapter.Load(global);
            var bpc = BitsPerByte.Bpc(model, scored.Span, cancellationToken: cancellationToken).BitsPerByte;
            rounds.Add(new TextRound(r, bpc, round.Elapsed.TotalSeconds));
            log?.Invoke($"round {r}: held-out BPC {bpc:0.0000} ({round.Elapsed.TotalSeconds:0.0} s)");
        }
        var federationSeconds = clock.Elapsed.TotalSeconds;

        // Alone: the same steps in one run from the same initial adapter, on the trainer's own text only.
        clock.Restart();
        var alone = new List<double>(trainerTexts.Count);
        for (var t = 0; t < trainerTexts.Count; t++)
        {
            adapter.Load(initial);
            LanguageTrainer.Train(model, trainerTexts[t], local with { Steps = options.LocalSteps * options.Rounds }, Derive(options.Seed, 0, t), cancellationToken);
            alone.Add(BitsPerByte.Bpc(model, scored.Span, cancellationToken: cancellationToken).BitsPerByte);
            log?.Invoke($"trainer {t + 1} alone: held-out BPC {alone[^1]:0.0000}");
        }
        model.Detach();
        return new TextFederationReport(baseBpc, rounds[^1].Bpc, alone, rounds, pretrainSeconds, federationSeconds, clock.Elapsed.TotalSeconds,
            global.Length, baseFlat.Length);
    }

    /// <summary>The UTF-8 bytes of documents joined with a blank line, as a node feeds its text folder to training.</summary>
    public static byte[] Join(IEnumerable<string> documents) => Encoding.UTF8.GetBytes(string.Join("\n\n", documents));

    private static ulong Derive(ulong seed, int round, int trainer) => seed ^ ((ulong)(round + 1) * 0x9E3779B97F4A7C15UL) ^ ((ulong)(trainer + 1) * 0xC2B2AE3D27D4EB4FUL);
}
