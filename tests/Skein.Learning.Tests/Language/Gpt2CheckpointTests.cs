using Skein.Core;
using Skein.Learning.Language;
using static TorchSharp.torch;

namespace Skein.Learning.Tests.Language;

public sealed class Gpt2CheckpointTests
{
    private static readonly int[] Tokens = [3, 41, 7, 0, 49, 12, 25];

    private static double MaxDifference(Gpt2Checkpoint checkpoint, TinyGpt2 tiny)
    {
        using var model = TransformerModel.Create(checkpoint.Config);
        model.Load(checkpoint.Parameters);
        using var scope = NewDisposeScope();
        var logits = model.Forward(tensor(Tokens.Select(t => (long)t).ToArray(), [1, Tokens.Length])).data<float>().ToArray();
        var reference = Gpt2Reference.Logits(tiny.Tensors, TinyGpt2.Layers, TinyGpt2.Heads, TinyGpt2.Width, TinyGpt2.Vocabulary, Tokens);
        double max = 0;
        for (var p = 0; p < Tokens.Length; p++)
        {
            for (var v = 0; v < TinyGpt2.Vocabulary; v++)
            {
                max = Math.Max(max, Math.Abs(logits[(p * TinyGpt2.Vocabulary) + v] - reference[p][v]));
            }
        }
        return max;
    }

    private static Gpt2CheckpointException Refused(System.Text.Json.Nodes.JsonObject config, IReadOnlyList<TensorEntry> entries) =>
        Assert.Throws<Gpt2CheckpointException>(() => Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(config, entries)));

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void An_imported_tiny_gpt2_computes_the_logits_of_an_independent_reference(bool prefixed, bool withBuffersAndHead)
    {
        var tiny = new TinyGpt2(seed: 11);
        var checkpoint = Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), tiny.Entries(prefixed, withBuffersAndHead)));

        Assert.Equal(new TransformerConfig(2, 2, 16, 8, 50), checkpoint.Config);
        Assert.Null(checkpoint.Tokenizer);
        var max = MaxDifference(checkpoint, tiny);
        TestContext.Current.TestOutputHelper?.WriteLine($"max |logit difference| against the double reference: {max:E3}");
        Assert.True(max < 1e-4, $"max logit difference {max}");
    }

    [Fact]
    public void F16_and_BF16_weights_are_widened_exactly()
    {
        var tiny = new TinyGpt2(seed: 12);
        var entries = tiny.Entries(withBuffersAndHead: false).Select((e, i) =>
        {
            var values = e.AsFloats().ToArray();
            var bytes = new byte[values.Length * 2];
            for (var j = 0; j < values.Length; j++)
            {
                var bits = i % 2 == 0 ? BitConverter.HalfToUInt16Bits((Half)values[j]) : (ushort)(BitConverter.SingleToInt32Bits(values[j]) >>> 16);
                BitConverter.TryWriteBytes(bytes.AsSpan(2 * j), bits);
            }
            return new TensorEntry(e.Name, i % 2 == 0 ? TensorDType.F16 : TensorDType.BF16, e.Shape, bytes);
        }).ToList();
        var wide = Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), entries));
        var exact = Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), tiny.Entries()));

        // Rounded to 8 or 11 significant bits: close to the F32 weights, not equal.
        var largest = wide.Parameters.Zip(exact.Parameters, (a, b) => Math.Abs(a - b) / Math.Max(1e-3, Math.Abs(b))).Max();
        Assert.InRange(largest, 1e-6, 1e-2);
    }

    [Fact]
    public void A_missing_tensor_is_refused_by_name()
    {
        var entries = new TinyGpt2(1).Entries().Where(e => e.Name != "transformer.h.1.mlp.c_fc.bias").ToList();
        var error = Refused(TinyGpt2.Config(), entries);
        Assert.Contains("'h.1.mlp.c_fc.bias'", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void A_conv1d_weight_in_linear_orientation_is_refused_with_the_expected_shape()
    {
        var tiny = new TinyGpt2(1);
        var entries = tiny.Entries().Select(e => e.Name == "transformer.h.0.attn.c_attn.weight"
            ? TensorEntry.FromFloats(e.Name, [48, 16], e.AsFloats()) : e).ToList();
        var error = Refused(TinyGpt2.Config(), entries);
        Assert.Contains("'transformer.h.0.attn.c_attn.weight': shape [48, 16]", error.Message);
        Assert.Contains("needs [16, 48]", error.Message);
    }

    [Fact]
    public void An_integer_tensor_is_refused_with_its_dtype()
    {
        var entries = new TinyGpt2(1).Entries().Select(e => e.Name == "transformer.wpe.weight"
            ? new TensorEntry(e.Name, TensorDType.I32, e.Shape, e.Data) : e).ToList();
        var error = Refused(TinyGpt2.Config(), entries);
        Assert.Contains("'transformer.wpe.weight': dtype I32 is not supported", error.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        var bytes = SafeTensors.Serialize(new TinyGpt2(1).Entries(withBuffersAndHead: false));
        var dataCut = Assert.Throws<Gpt2CheckpointException>(() => Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), bytes[..^10])));
        Assert.Contains("truncated: tensor 'transformer.ln_f.bias'", dataCut.Message);
        var headerCut = Assert.Throws<Gpt2CheckpointException>(() => Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), bytes[..40])));
        Assert.Contains("truncated: header claims", headerCut.Message);
    }

    [Fact]
    public void A_config_that_disagrees_with_the_tensors_is_refused()
    {
        var entries = new TinyGpt2(1).Entries();
        var wider = TinyGpt2.Config();
        wider["n_embd"] = 32;
        Assert.Contains("'transformer.wte.weight': shape [50, 16], but config.json (n_layer=2, n_head=2, n_embd=32", Refused(wider, entries).Message);

        var shallower = TinyGpt2.Config();
        shallower["n_layer"] = 1;
        Assert.Contains("is not part of a GPT-2 with n_layer=1", Refused(shallower, entries).Message);

        var deeper = TinyGpt2.Config();
        deeper["n_layer"] = 3;
        Assert.Contains("'h.2.ln_1.weight' (or 'transformer.h.2.ln_1.weight') is missing", Refused(deeper, entries).Message);
    }

    [Theory]
    [InlineData("activation_function", "\"relu\"", "activation_function is 'relu'")]
    [InlineData("layer_norm_epsilon", "1e-6", "layer_norm_epsilon is 1E-06")]
    [InlineData("n_inner", "48", "n_inner is 48")]
    [InlineData("scale_attn_by_inverse_layer_idx", "true", "scale_attn_by_inverse_layer_idx is true")]
    [InlineData("n_ctx", "16", "n_positions (8) and n_ctx (16) disagree")]
    [InlineData("model_type", "\"llama\"", "model_type is 'llama'")]
    public void An_unsupported_option_is_refused_by_field(string field, string json, string expected)
    {
        var config = TinyGpt2.Config();
        config[field] = System.Text.Json.Nodes.JsonNode.Parse(json);
        Assert.Contains(expected, Refused(config, new TinyGpt2(1).Entries()).Message);
    }

    [Fact]
    public void An_untied_lm_head_is_refused()
    {
        var entries = new TinyGpt2(1).Entries().Select(e => e.Name == "lm_head.weight"
            ? TensorEntry.FromFloats(e.Name, e.Shape, e.AsFloats().ToArray().Select(v => v * 2).ToArray()) : e).ToList();
        Assert.Contains("'lm_head.weight' differs from 'wte.weight'", Refused(TinyGpt2.Config(), entries).Message);
    }

    [Fact]
    public void An_imported_model_fine_tunes_on_token_ids_but_not_on_bytes()
    {
        var checkpoint = Gpt2Checkpoint.Load(TinyGpt2.WriteFolder(TinyGpt2.Config(), new TinyGpt2(5).Entries()));
        using var model = TransformerModel.Create(checkpoint.Config);
        model.Load(checkpoint.Parameters);
        var tokens = Enumerable.Range(0, 200).Select(i => i * 7 % 50).ToArray();
        var options = new LanguageTrainingOptions(30, 4, 1e-2);

        var result = LanguageTrainer.TrainTokens(model, tokens, options, seed: 1, TestContext.Current.CancellationToken);

        Assert.True(double.IsFinite(result.LastLoss));
        Assert.True(result.LastLoss < result.MeanLoss, $"last loss {result.LastLoss} should be below the mean {result.MeanLoss}");
        var bytes = Assert.Throws<ArgumentException>(() => LanguageTrainer.Train(model, new byte[100], options, 1, TestContext.Current.CancellationToken));
        Assert.Contains("byte-level model", bytes.Message);
        Assert.Throws<ArgumentException>(() => LanguageTrainer.TrainTokens(model, new[] { 1, 2, 50, 3, 4, 5, 6, 7, 8, 9 }, options, 1, TestContext.Current.CancellationToken));
    }
}
