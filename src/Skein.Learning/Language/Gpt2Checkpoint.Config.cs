using System.Text.Json;

namespace Skein.Learning.Language;

public sealed partial class Gpt2Checkpoint
{
    // Activations that are GELU's tanh approximation, which is what our MLP computes.
    private static readonly string[] TanhGelu = ["gelu_new", "gelu_pytorch_tanh"];

    /// <summary>
    /// Reads a Hugging Face GPT-2 <c>config.json</c> into our sizes, refusing every option our modules do not
    /// compute (naming the field and the rule) rather than importing weights that would compute something else.
    /// </summary>
    public static TransformerConfig ParseConfig(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new Gpt2CheckpointException($"config.json is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new Gpt2CheckpointException("config.json must be a JSON object");
            }
            if (OptionalString(root, "model_type") is { } modelType && modelType != "gpt2")
            {
                throw new Gpt2CheckpointException($"config.json: model_type is '{modelType}', only 'gpt2' is supported");
            }
            var layers = RequiredInt(root, "n_layer");
            var heads = RequiredInt(root, "n_head");
            var width = RequiredInt(root, "n_embd");
            var vocabulary = RequiredInt(root, "vocab_size");
            var positions = OptionalInt(root, "n_positions");
            var ctx = OptionalInt(root, "n_ctx");
            if (positions is { } p && ctx is { } c && p != c)
            {
                throw new Gpt2CheckpointException($"config.json: n_positions ({p}) and n_ctx ({c}) disagree; the position table has one size");
            }
            var context = positions ?? ctx ?? throw new Gpt2CheckpointException("config.json: n_positions (or n_ctx) is missing");
            if (width % heads != 0)
            {
                throw new Gpt2CheckpointException($"config.json: n_embd ({width}) must be a multiple of n_head ({heads})");
            }

            var epsilon = OptionalDouble(root, "layer_norm_epsilon") ?? TransformerConfig.LayerNormEpsilon;
            if (Math.Abs(epsilon - TransformerConfig.LayerNormEpsilon) > 1e-12)
            {
                throw new Gpt2CheckpointException(
                    $"config.json: layer_norm_epsilon is {epsilon}, only GPT-2's {TransformerConfig.LayerNormEpsilon} is supported");
            }
            var activation = OptionalString(root, "activation_function") ?? "gelu_new";
            if (!TanhGelu.Contains(activation))
            {
                throw new Gpt2CheckpointException(
                    $"config.json: activation_function is '{activation}', only GELU's tanh approximation ({string.Join(" or ", TanhGelu)}) is supported");
            }
            if (OptionalInt(root, "n_inner") is { } inner && inner != 4 * width)
            {
                throw new Gpt2CheckpointException($"config.json: n_inner is {inner}, only 4 * n_embd ({4 * width}) is supported");
            }
            RequireFlag(root, "scale_attn_weights", expected: true);
            RequireFlag(root, "scale_attn_by_inverse_layer_idx", expected: false);
            RequireFlag(root, "add_cross_attention", expected: false);
            RequireFlag(root, "tie_word_embeddings", expected: true);

            var config = new TransformerConfig(layers, heads, width, context, vocabulary);
            return config.Validate() is { } error ? throw new Gpt2CheckpointException($"config.json: {error}") : config;
        }
    }

    private static int RequiredInt(JsonElement root, string name) =>
        OptionalInt(root, name) ?? throw new Gpt2CheckpointException($"config.json: {name} is missing");

    private static int? OptionalInt(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 1
            ? n
            : throw new Gpt2CheckpointException($"config.json: {name} must be an integer >= 1, got {value.GetRawText()}");
    }

    private static double? OptionalDouble(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new Gpt2CheckpointException($"config.json: {name} must be a number, got {value.GetRawText()}");
    }

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new Gpt2CheckpointException($"config.json: {name} must be a string, got {value.GetRawText()}");
    }

    private static void RequireFlag(JsonElement root, string name, bool expected)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new Gpt2CheckpointException($"config.json: {name} must be true or false, got {value.GetRawText()}");
        }
        if (value.GetBoolean() != expected)
        {
            throw new Gpt2CheckpointException($"config.json: {name} is {value.GetBoolean().ToString().ToLowerInvariant()}, only {expected.ToString().ToLowerInvariant()} is supported");
        }
    }
}
