using System.Text.Json.Nodes;
using Skein.Core;

namespace Skein.Learning.Tests.Language;

/// <summary>
/// A tiny GPT-2 with seeded random weights in Hugging Face's names and orientation (Conv1D weights [in, out]),
/// written as a model folder; the reference forward pass reads these tensors, never our layout.
/// </summary>
internal sealed class TinyGpt2
{
    public const int Layers = 2, Heads = 2, Width = 16, Context = 8, Vocabulary = 50;

    public TinyGpt2(int seed)
    {
        var rng = new Random(seed);
        float[] Normal(int count, double mean, double std) =>
            Enumerable.Range(0, count).Select(_ => (float)(mean + (std * Gaussian(rng)))).ToArray();
        void Add(string name, long[] shape, double mean, double std) =>
            Tensors[name] = (shape, Normal((int)shape.Aggregate(1L, (a, b) => a * b), mean, std));

        const int w = Width;
        Add("wte.weight", [Vocabulary, w], 0, 0.3);
        Add("wpe.weight", [Context, w], 0, 0.1);
        for (var i = 0; i < Layers; i++)
        {
            var h = $"h.{i}.";
            // Gains away from 1 and biases away from 0, so that a misplaced one changes the logits.
            Add(h + "ln_1.weight", [w], 1, 0.2);
            Add(h + "ln_1.bias", [w], 0, 0.1);
            Add(h + "attn.c_attn.weight", [w, 3 * w], 0, 0.3);
            Add(h + "attn.c_attn.bias", [3 * w], 0, 0.1);
            Add(h + "attn.c_proj.weight", [w, w], 0, 0.3);
            Add(h + "attn.c_proj.bias", [w], 0, 0.1);
            Add(h + "ln_2.weight", [w], 1, 0.2);
            Add(h + "ln_2.bias", [w], 0, 0.1);
            Add(h + "mlp.c_fc.weight", [w, 4 * w], 0, 0.3);
            Add(h + "mlp.c_fc.bias", [4 * w], 0, 0.1);
            Add(h + "mlp.c_proj.weight", [4 * w, w], 0, 0.2);
            Add(h + "mlp.c_proj.bias", [w], 0, 0.1);
        }
        Add("ln_f.weight", [w], 1, 0.2);
        Add("ln_f.bias", [w], 0, 0.1);
    }

    /// <summary>Hugging Face name (without the <c>transformer.</c> prefix) to shape and values.</summary>
    public Dictionary<string, (long[] Shape, float[] Values)> Tensors { get; } = new(StringComparer.Ordinal);

    public static JsonObject Config() => new()
    {
        ["model_type"] = "gpt2",
        ["n_layer"] = Layers,
        ["n_head"] = Heads,
        ["n_embd"] = Width,
        ["n_positions"] = Context,
        ["n_ctx"] = Context,
        ["vocab_size"] = Vocabulary,
        ["layer_norm_epsilon"] = 1e-5,
        ["activation_function"] = "gelu_new",
        ["n_inner"] = null,
        ["tie_word_embeddings"] = true,
    };

    /// <summary>
    /// The entries as <c>save_pretrained</c> of a <c>GPT2LMHeadModel</c> would write them: the prefix, the
    /// attention mask buffers older versions saved, and the tied head.
    /// </summary>
    public List<TensorEntry> Entries(bool prefixed = true, bool withBuffersAndHead = true)
    {
        var prefix = prefixed ? "transformer." : "";
        var entries = Tensors.Select(t => TensorEntry.FromFloats(prefix + t.Key, t.Value.Shape, t.Value.Values)).ToList();
        if (withBuffersAndHead)
        {
            for (var i = 0; i < Layers; i++)
            {
                var mask = new float[Context * Context];
                for (var r = 0; r < Context; r++)
                {
                    for (var c = 0; c <= r; c++)
                    {
                        mask[(r * Context) + c] = 1;
                    }
                }
                entries.Add(TensorEntry.FromFloats($"{prefix}h.{i}.attn.bias", [1, 1, Context, Context], mask));
                entries.Add(TensorEntry.FromFloats($"{prefix}h.{i}.attn.masked_bias", [], [-1e4f]));
            }
            entries.Add(TensorEntry.FromFloats("lm_head.weight", Tensors["wte.weight"].Shape, Tensors["wte.weight"].Values));
        }
        return entries;
    }

    /// <summary>Writes config.json and model.safetensors into a fresh temporary folder and returns it.</summary>
    public static string WriteFolder(JsonObject config, IReadOnlyList<TensorEntry> entries) =>
        WriteFolder(config, SafeTensors.Serialize(entries));

    public static string WriteFolder(JsonObject config, byte[] weights)
    {
        var folder = Directory.CreateTempSubdirectory("skein-gpt2-").FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), weights);
        return folder;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
