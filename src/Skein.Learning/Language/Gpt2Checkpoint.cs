using Skein.Core;

namespace Skein.Learning.Language;

/// <summary>Raised when a GPT-2 checkpoint cannot be imported; the message names the file, field or tensor and the rule.</summary>
public sealed class Gpt2CheckpointException(string message) : FormatException(message);

/// <summary>
/// A Hugging Face GPT-2 checkpoint imported into our layout: its sizes, its parameters as the flat float32
/// vector <see cref="TransformerModel.Load"/> takes, and its BPE tokenizer when the folder has one.
/// </summary>
public sealed partial class Gpt2Checkpoint
{
    public const string ConfigFile = "config.json";

    public const string WeightsFile = "model.safetensors";

    private Gpt2Checkpoint(TransformerConfig config, float[] parameters, Gpt2Tokenizer? tokenizer)
    {
        Config = config;
        Parameters = parameters;
        Tokenizer = tokenizer;
    }

    public TransformerConfig Config { get; }

    /// <summary>The parameters in <see cref="TransformerConfig.Layout"/> order, Conv1D weights transposed to [out, in].</summary>
    public float[] Parameters { get; }

    /// <summary>The tokenizer from <c>vocab.json</c> and <c>merges.txt</c>, or null when the folder has neither.</summary>
    public Gpt2Tokenizer? Tokenizer { get; }

    /// <summary>
    /// Reads <c>config.json</c>, <c>model.safetensors</c> and, if present, <c>vocab.json</c> + <c>merges.txt</c>
    /// from a Hugging Face model folder (e.g. one saved by <c>save_pretrained</c>).
    /// </summary>
    public static Gpt2Checkpoint Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new Gpt2CheckpointException($"{folder}: {ConfigFile} is missing");
        }
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath))
        {
            throw new Gpt2CheckpointException(File.Exists(Path.Combine(folder, "pytorch_model.bin"))
                ? $"{folder}: {WeightsFile} is missing; pytorch_model.bin (a pickle) is not read, convert it to safetensors"
                : $"{folder}: {WeightsFile} is missing");
        }
        var config = ParseConfig(File.ReadAllText(configPath));

        // The reader takes one span, so the file must fit in one array (GPT-2 small and medium in F32 do; large does not).
        var length = new FileInfo(weightsPath).Length;
        if (length > Array.MaxLength)
        {
            throw new Gpt2CheckpointException($"{weightsPath}: {length} bytes, more than the {Array.MaxLength} one read can hold; store it as F16 or BF16");
        }
        SafeTensorsDocument document;
        try
        {
            document = SafeTensors.Parse(File.ReadAllBytes(weightsPath));
        }
        catch (SafeTensorsFormatException ex)
        {
            throw new Gpt2CheckpointException($"{weightsPath}: {ex.Message}");
        }
        var parameters = FromTensors(config, document.Tensors);
        var tokenizer = Gpt2Tokenizer.TryLoad(folder);
        if (tokenizer is not null && tokenizer.MaxId >= config.Vocabulary)
        {
            throw new Gpt2CheckpointException(
                $"{folder}: vocab.json has token id {tokenizer.MaxId}, outside config.json's vocab_size {config.Vocabulary}");
        }
        return new Gpt2Checkpoint(config, parameters, tokenizer);
    }

    /// <summary>
    /// Maps Hugging Face GPT-2 tensors (with or without the <c>transformer.</c> prefix) onto <paramref name="config"/>'s
    /// layout: Conv1D weights [in, out] are transposed to [out, in], the attention mask buffers skipped, and
    /// <c>lm_head.weight</c> accepted only as the copy of <c>wte.weight</c> it is in a tied GPT-2.
    /// </summary>
    public static float[] FromTensors(TransformerConfig config, IReadOnlyList<TensorEntry> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        var byName = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            var name = t.Name.StartsWith(Prefix, StringComparison.Ordinal) ? t.Name[Prefix.Length..] : t.Name;
            if (!byName.TryAdd(name, t))
            {
                throw new Gpt2CheckpointException($"tensor '{name}' appears both with and without the '{Prefix}' prefix");
            }
        }

        var layout = config.Layout();
        var flat = new float[layout.TotalCount];
        for (var i = 0; i < layout.Parameters.Count; i++)
        {
            var spec = layout.Parameters[i];
            if (!byName.Remove(spec.Name, out var tensor))
            {
                throw new Gpt2CheckpointException(
                    $"tensor '{spec.Name}' (or '{Prefix}{spec.Name}') is missing; a GPT-2 with {Sizes(config)} needs it");
            }
            var conv1D = IsConv1D(spec.Name);
            var expected = conv1D ? [spec.Shape[1], spec.Shape[0]] : spec.Shape.ToArray();
            if (!tensor.Shape.SequenceEqual(expected))
            {
                throw new Gpt2CheckpointException(
                    $"tensor '{tensor.Name}': shape [{string.Join(", ", tensor.Shape)}], but config.json ({Sizes(config)}) needs [{string.Join(", ", expected)}]"
                    + (conv1D ? " (Conv1D weights are stored [in, out])" : ""));
            }
            var values = ToFloats(tensor);
            var target = flat.AsSpan(layout.OffsetOf(i), values.Length);
            if (conv1D)
            {
                Transpose(values, (int)expected[0], (int)expected[1], target);
            }
            else
            {
                values.CopyTo(target);
            }
        }

        foreach (var (name, tensor) in byName)
        {
            CheckLeftOver(config, name, tensor, flat.AsSpan(0, config.Vocabulary * config.Width));
        }
        return flat;
    }

    private const string Prefix = "transformer.";

    private static string Sizes(TransformerConfig c) =>
        $"n_layer={c.Layers}, n_head={c.Heads}, n_embd={c.Width}, n_positions={c.Context}, vocab_size={c.Vocabulary}";

    private static bool IsConv1D(string name) =>
        name.EndsWith(".attn.c_attn.weight", StringComparison.Ordinal) || name.EndsWith(".attn.c_proj.weight", StringComparison.Ordinal)
        || name.EndsWith(".mlp.c_fc.weight", StringComparison.Ordinal) || name.EndsWith(".mlp.c_proj.weight", StringComparison.Ordinal);

    /// <summary>Refuses a tensor the layout did not take unless it is a known buffer or the tied LM head.</summary>
    private static void CheckLeftOver(TransformerConfig config, string name, TensorEntry tensor, ReadOnlySpan<float> wte)
    {
        // Older transformers versions saved the causal mask (attn.bias) and its fill value (attn.masked_bias)
        // as persistent buffers; they are not parameters and our attention builds its own mask.
        var parts = name.Split('.');
        if (parts is ["h", var index, "attn", "bias" or "masked_bias"] && int.TryParse(index, out var layer) && layer >= 0 && layer < config.Layers)
        {
            return;
        }
        if (name == "lm_head.weight")
        {
            if (!tensor.Shape.SequenceEqual([(long)config.Vocabulary, config.Width]))
            {
                throw new Gpt2CheckpointException(
                    $"tensor 'lm_head.weight': shape [{string.Join(", ", tensor.Shape)}], the tied LM head must have wte's [{config.Vocabulary}, {config.Width}]");
            }
            if (!ToFloats(tensor).SequenceEqual(wte))
            {
                throw new Gpt2CheckpointException(
                    "tensor 'lm_head.weight' differs from 'wte.weight': our LM head is tied to wte as in GPT-2, an untied head is not supported");
            }
            return;
        }
        throw new Gpt2CheckpointException(
            $"tensor '{tensor.Name}' is not part of a GPT-2 with {Sizes(config)}: config.json and the tensors disagree, or the model is not a GPT-2");
    }

    /// <summary>The values as float32; F16 and BF16 widen exactly, other dtypes are refused.</summary>
    private static float[] ToFloats(TensorEntry tensor)
    {
        var data = tensor.Data.Span;
        float[] values;
        switch (tensor.DType)
        {
            case TensorDType.F32:
                values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray();
                break;
            case TensorDType.F16:
                values = new float[data.Length / 2];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (float)BitConverter.UInt16BitsToHalf(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]));
                }
                break;
            case TensorDType.BF16:
                values = new float[data.Length / 2];
                for (var i = 0; i < values.Length; i++)
                {
                    // bfloat16 is the top half of a float32.
                    values[i] = BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
                }
                break;
            default:
                throw new Gpt2CheckpointException(
                    $"tensor '{tensor.Name}': dtype {tensor.DType} is not supported; weights must be F32 (F16 and BF16 are widened to F32)");
        }
        var bad = Array.FindIndex(values, v => !float.IsFinite(v));
        return bad < 0 ? values : throw new Gpt2CheckpointException($"tensor '{tensor.Name}': element {bad} is {values[bad]}, weights must be finite");
    }

    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> target)
    {
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                target[(c * rows) + r] = source[(r * columns) + c];
            }
        }
    }
}
