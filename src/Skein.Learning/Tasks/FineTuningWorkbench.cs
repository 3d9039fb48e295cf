using System.Numerics.Tensors;
using Skein.Core;
using Skein.Learning.Language;

namespace Skein.Learning.Tasks;

/// <summary>
/// A fine-tuning task's frozen base with its adapter attached, as a node holds it across rounds: trains an update
/// from a global adapter, and scores adapters by bits per byte.
/// </summary>
public sealed class FineTuningWorkbench : IDisposable
{
    private readonly TransformerModel _model;
    private readonly LoraAdapter _adapter;

    private FineTuningWorkbench(TaskSpec spec, TransformerModel model)
    {
        Spec = spec;
        _model = model;
        _adapter = LoraAdapter.Create(model.Config, TaskModels.Lora(spec));
        _model.Attach(_adapter);
    }

    public TaskSpec Spec { get; }

    public ParameterLayout Layout => _adapter.Layout;

    /// <summary>Loads the base from its safetensors, checking its hash against the task's <c>model.base</c>.</summary>
    public static FineTuningWorkbench Open(TaskSpec spec, ReadOnlySpan<byte> baseSafeTensors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hash = Hashing.Sha256Hex(baseSafeTensors);
        if (hash != spec.Model.Base)
        {
            throw new FormatException($"model.base: the task names {spec.Model.Base}, the bytes received hash to {hash}");
        }
        var config = TaskModels.Language(spec);
        var flat = config.Layout().FromSafeTensors(SafeTensors.Parse(baseSafeTensors));
        var model = TransformerModel.Create(config);
        model.Load(flat);
        return new FineTuningWorkbench(spec, model);
    }

    /// <summary>Trains the adapter from <paramref name="global"/> on <paramref name="text"/> and returns the change (the update).</summary>
    public (float[] Delta, LanguageTrainingResult Result) Train(float[] global, ReadOnlyMemory<byte> text, uint round, ulong seed, CancellationToken cancellationToken = default)
    {
        var t = Spec.Training;
        return Train(global, text, new LanguageTrainingOptions(t.StepsOrDefault, t.BatchSize, t.LrAt(round)), seed, cancellationToken);
    }

    /// <summary>The same with settings of the trainer's own (a tournament's entrants choose theirs).</summary>
    public (float[] Delta, LanguageTrainingResult Result) Train(float[] global, ReadOnlyMemory<byte> text, LanguageTrainingOptions options, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(global);
        _adapter.Load(global);
        var result = LanguageTrainer.Train(_model, text, options, seed, cancellationToken);
        var delta = _adapter.ToFlat();
        TensorPrimitives.Subtract(delta, global, delta);
        return (delta, result);
    }

    /// <summary>Bits per byte of base + <paramref name="adapter"/> on <paramref name="text"/>; non-finite if the adapter breaks the model.</summary>
    public BpcResult Bpc(ReadOnlySpan<float> adapter, ReadOnlySpan<byte> text, CancellationToken cancellationToken = default)
    {
        _adapter.Load(adapter);
        return BitsPerByte.Bpc(_model, text, cancellationToken: cancellationToken);
    }

    /// <summary>What base + <paramref name="adapter"/> writes after <paramref name="prompt"/> (seeded sampling; temperature 0 is greedy).</summary>
    public string Generate(ReadOnlySpan<float> adapter, string prompt, int maxBytes, double temperature, ulong seed, CancellationToken cancellationToken = default)
    {
        _adapter.Load(adapter);
        return TextGenerator.Generate(_model, prompt, maxBytes, temperature, seed, cancellationToken);
    }

    /// <summary>
    /// The <c>bpc</c> score rule, per update: the held-out bits per byte of global + update against the global
    /// adapter's (see <see cref="BpcScore"/>).
    /// </summary>
    public double[] Score(float[] global, IReadOnlyList<float[]> deltas, ReadOnlySpan<byte> heldOut, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(deltas);
        var text = heldOut[..Math.Min(heldOut.Length, BpcScore.MaxHeldOutBytes)];
        var before = Bpc(global, text, cancellationToken).BitsPerByte;
        var scores = new double[deltas.Count];
        var candidate = new float[global.Length];
        for (var i = 0; i < deltas.Count; i++)
        {
            if (deltas[i].Length != global.Length)
            {
                continue;
            }
            TensorPrimitives.Add(global, deltas[i], candidate);
            scores[i] = BpcScore.Compute(before, Bpc(candidate, text, cancellationToken).BitsPerByte);
        }
        return scores;
    }

    public void Dispose()
    {
        _model.Detach();
        _adapter.Dispose();
        _model.Dispose();
    }
}

/// <summary>
/// The <c>bpc</c> score: with d = (bpc_global - bpc_candidate) / bpc_global, the relative improvement of the
/// validator's held-out bits per byte, the score is 0.75 + 2.5 d clamped to [0, 1]. No change scores 0.75; 10%
/// better scores 1; 10% worse scores 0.5, the default rejection bar, so a trainer whose era differs from the
/// validator's text may cost it a little without being rejected, while a poisoned adapter (hundreds of percent
/// worse) scores 0. A non-finite result scores 0 and never stops the validator.
/// </summary>
public static class BpcScore
{
    /// <summary>The held-out bytes a validator scores each candidate on (its first bytes), which bounds its time per round.</summary>
    public const int MaxHeldOutBytes = 24 * 1024;

    public static double Compute(double globalBpc, double candidateBpc)
    {
        if (!double.IsFinite(globalBpc) || !double.IsFinite(candidateBpc) || globalBpc <= 0)
        {
            return 0;
        }
        var d = (globalBpc - candidateBpc) / globalBpc;
        return Math.Clamp(0.75 + (2.5 * d), 0, 1);
    }
}
