using Skein.Core;

namespace Skein.Learning.Language;

/// <summary>
/// LoRA (Hu et al. 2021) on a frozen base: each targeted linear W (out x in) gains delta = (alpha / r) B A with
/// A (r x in) drawn from a seed and B (out x r) starting at zero, so an untrained adapter leaves the model as is.
/// </summary>
public sealed record LoraConfig(int Rank, double Alpha, IReadOnlyList<string> Targets)
{
    /// <summary>The linear layers of a block an adapter can target, in layout order.</summary>
    public static IReadOnlyList<string> AllTargets => TaskAdapterSpec.KnownTargets;

    /// <summary>
    /// FFA-LoRA (Sun et al. 2024): A stays at its seeded initialisation and only B trains, which is what makes
    /// <see cref="LoraAggregationMode.Exact"/> exact.
    /// </summary>
    public bool FreezeA { get; init; }

    public double Scale => Alpha / Rank;

    /// <summary>Rank 8, alpha 16, every target, A trained.</summary>
    public static LoraConfig Default { get; } = new(8, 16, AllTargets);

    /// <summary>Returns the first rule a setting breaks, or null if all hold.</summary>
    public string? Validate()
    {
        if (Rank < 1)
        {
            return $"rank must be >= 1, got {Rank}";
        }
        if (!(Alpha > 0) || double.IsInfinity(Alpha))
        {
            return $"alpha must be a finite number > 0, got {Alpha}";
        }
        if (Targets is null || Targets.Count == 0)
        {
            return "at least one target layer is needed";
        }
        return Targets.FirstOrDefault(t => !AllTargets.Contains(t)) is { } unknown
            ? $"unknown target '{unknown}' (known: {string.Join(", ", AllTargets)})"
            : null;
    }

    /// <summary>
    /// The adapter's flat layout for <paramref name="model"/>: per block and target, <c>h.{i}.{target}.lora_A</c>
    /// [r, in] then <c>h.{i}.{target}.lora_B</c> [out, r].
    /// </summary>
    public ParameterLayout Layout(TransformerConfig model) =>
        new(Targeted(model).SelectMany(t => new ParameterSpec[]
        {
            new(t.Name + ".lora_A", [Rank, t.In]),
            new(t.Name + ".lora_B", [t.Out, Rank]),
        }).ToArray());

    /// <summary>
    /// A uniform in +-1/sqrt(in) (PEFT's kaiming_uniform with a = sqrt(5)) from our seeded generator, so anyone
    /// can recompute it; B zero.
    /// </summary>
    public float[] InitialParameters(TransformerConfig model, ulong seed)
    {
        var layout = Layout(model);
        var flat = new float[layout.TotalCount];
        var rng = DeterministicRandom.Derive(seed, "lora/init");
        for (var i = 0; i < layout.Parameters.Count; i += 2)
        {
            var a = layout.Parameters[i];
            var bound = 1.0 / Math.Sqrt(a.Shape[1]);
            var span = flat.AsSpan(layout.OffsetOf(i), (int)a.ElementCount);
            for (var j = 0; j < span.Length; j++)
            {
                span[j] = (float)(((2 * rng.NextDouble()) - 1) * bound);
            }
        }
        return flat;
    }

    /// <summary>The targeted layers of <paramref name="model"/> with their base weight's shape, in layout order.</summary>
    internal IEnumerable<(string Name, long Out, long In)> Targeted(TransformerConfig model)
    {
        if (Validate() is { } error)
        {
            throw new InvalidOperationException(error);
        }
        long w = model.Width;
        for (var i = 0; i < model.Layers; i++)
        {
            foreach (var target in AllTargets.Where(Targets.Contains))
            {
                var (outFeatures, inFeatures) = target switch
                {
                    "attn.c_attn" => (3 * w, w),
                    "attn.c_proj" => (w, w),
                    "mlp.c_fc" => (4 * w, w),
                    _ => (w, 4 * w),
                };
                yield return ($"h.{i}.{target}", outFeatures, inFeatures);
            }
        }
    }
}
