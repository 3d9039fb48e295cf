using Skein.Core;

namespace Skein.Learning.Language;

/// <summary>
/// The sizes of a decoder-only transformer; the default vocabulary is the 256 byte values (no tokenizer), an
/// imported GPT-2 (see <see cref="Gpt2Checkpoint"/>) brings its own.
/// </summary>
public sealed record TransformerConfig(int Layers, int Heads, int Width, int Context, int Vocabulary = TransformerConfig.ByteVocabulary)
{
    /// <summary>Every byte value is a token.</summary>
    public const int ByteVocabulary = 256;

    /// <summary>
    /// The LayerNorm epsilon of every norm in the model: GPT-2's <c>layer_norm_epsilon</c> default, and also
    /// libtorch's, so byte-level models trained before it was spelled out compute what they did.
    /// </summary>
    public const double LayerNormEpsilon = 1e-5;

    /// <summary>True when tokens are raw bytes, which byte corpora and bits per byte need.</summary>
    public bool IsByteLevel => Vocabulary == ByteVocabulary;

    /// <summary>2 layers, 2 heads, width 64, context 64 (120,576 parameters): trains in seconds on one CPU core.</summary>
    public static TransformerConfig Tiny { get; } = new(2, 2, 64, 64);

    /// <summary>4 layers, 4 heads, width 128, context 128 (842,496 parameters).</summary>
    public static TransformerConfig Small { get; } = new(4, 4, 128, 128);

    /// <summary>The preset names a user types, e.g. for <c>skein bench train --model</c>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["transformer-tiny", "transformer-small"];

    public int HeadWidth => Width / Heads;

    public static bool TryParse(string? name, out TransformerConfig config)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "transformer-tiny":
                config = Tiny;
                return true;
            case "transformer-small":
                config = Small;
                return true;
            default:
                config = Tiny;
                return false;
        }
    }

    /// <summary>Returns the first rule a size breaks, or null if all hold.</summary>
    public string? Validate()
    {
        if (Layers < 1 || Heads < 1 || Width < 1 || Context < 1 || Vocabulary < 1)
        {
            return $"layers, heads, width, context and vocabulary must be >= 1, got {this}";
        }
        return Width % Heads != 0 ? $"width {Width} is not a multiple of heads {Heads}" : null;
    }

    /// <summary>
    /// The parameter layout in <c>named_parameters()</c> order, without building the module (a test checks that
    /// it equals the module's). Names follow GPT-2's (wte, wpe, h.{i}.ln_1, h.{i}.attn.c_attn, ...) so that a
    /// GPT-2 checkpoint maps onto them; GPT-2's Conv1D stores its weights as [in, out], these are [out, in] as
    /// in <c>nn.Linear</c>, so an importer transposes them. The LM head is tied to <c>wte</c> as in GPT-2 and
    /// has no parameters of its own.
    /// </summary>
    public ParameterLayout Layout()
    {
        if (Validate() is { } error)
        {
            throw new InvalidOperationException(error);
        }
        long w = Width;
        var specs = new List<ParameterSpec>(4 + (Layers * 12))
        {
            new("wte.weight", [Vocabulary, w]),
            new("wpe.weight", [Context, w]),
        };
        for (var i = 0; i < Layers; i++)
        {
            var h = $"h.{i}.";
            specs.Add(new(h + "ln_1.weight", [w]));
            specs.Add(new(h + "ln_1.bias", [w]));
            specs.Add(new(h + "attn.c_attn.weight", [3 * w, w]));
            specs.Add(new(h + "attn.c_attn.bias", [3 * w]));
            specs.Add(new(h + "attn.c_proj.weight", [w, w]));
            specs.Add(new(h + "attn.c_proj.bias", [w]));
            specs.Add(new(h + "ln_2.weight", [w]));
            specs.Add(new(h + "ln_2.bias", [w]));
            specs.Add(new(h + "mlp.c_fc.weight", [4 * w, w]));
            specs.Add(new(h + "mlp.c_fc.bias", [4 * w]));
            specs.Add(new(h + "mlp.c_proj.weight", [w, 4 * w]));
            specs.Add(new(h + "mlp.c_proj.bias", [w]));
        }
        specs.Add(new("ln_f.weight", [w]));
        specs.Add(new("ln_f.bias", [w]));
        return new ParameterLayout(specs);
    }

    /// <summary>
    /// GPT-2's initialisation, drawn from our seeded generator so that anyone can recompute it without libtorch:
    /// weights and embeddings normal(0, 0.02), the residual projections (<c>c_proj</c>) normal(0, 0.02/sqrt(2
    /// layers)) as in the GPT-2 paper, biases 0, LayerNorm gains 1.
    /// </summary>
    public float[] InitialParameters(ulong seed)
    {
        var layout = Layout();
        var flat = new float[layout.TotalCount];
        var rng = DeterministicRandom.Derive(seed, "transformer/init");
        var residualStd = 0.02 / Math.Sqrt(2.0 * Layers);
        for (var i = 0; i < layout.Parameters.Count; i++)
        {
            var name = layout.Parameters[i].Name;
            var span = flat.AsSpan(layout.OffsetOf(i), (int)layout.Parameters[i].ElementCount);
            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                continue;
            }
            if (name.StartsWith("ln_", StringComparison.Ordinal) || name.Contains(".ln_", StringComparison.Ordinal))
            {
                span.Fill(1f);
                continue;
            }
            var std = name.EndsWith(".c_proj.weight", StringComparison.Ordinal) ? residualStd : 0.02;
            for (var j = 0; j < span.Length; j++)
            {
                span[j] = (float)(rng.NextGaussian() * std);
            }
        }
        return flat;
    }
}
