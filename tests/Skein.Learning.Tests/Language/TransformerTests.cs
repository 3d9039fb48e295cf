using System.Text;
using Skein.Learning.Language;
using static TorchSharp.torch;

namespace Skein.Learning.Tests.Language;

public sealed class TransformerTests
{
    internal static byte[] RepetitiveText(int length)
    {
        var line = Encoding.ASCII.GetBytes("the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs.\n");
        var text = new byte[length];
        for (var i = 0; i < length; i++)
        {
            text[i] = line[i % line.Length];
        }
        return text;
    }

    [Theory]
    [InlineData("transformer-tiny", 120_576)]
    [InlineData("transformer-small", 842_496)]
    public void Layout_without_the_module_equals_its_named_parameters(string name, int expectedCount)
    {
        Assert.True(TransformerConfig.TryParse(name, out var config));
        using var model = TransformerModel.Create(config);
        var layout = config.Layout();
        Assert.Equal(model.Layout.Parameters.Select(p => p.ToString()), layout.Parameters.Select(p => p.ToString()));
        Assert.Equal(expectedCount, layout.TotalCount);
        Assert.Equal("wte.weight", layout.Parameters[0].Name);
        Assert.Equal("h.0.attn.c_attn.weight", layout.Parameters[4].Name);
        Assert.Equal("ln_f.bias", layout.Parameters[^1].Name);
    }

    [Fact]
    public void Initial_parameters_are_seeded_gpt2_style()
    {
        var config = TransformerConfig.Tiny;
        var layout = config.Layout();
        var a = config.InitialParameters(1);
        Assert.Equal(a, config.InitialParameters(1));
        Assert.NotEqual(a, config.InitialParameters(2));
        var wte = a.AsSpan(0, (int)layout.Parameters[0].ElementCount).ToArray();
        var std = Math.Sqrt(wte.Average(v => (double)v * v));
        Assert.InRange(std, 0.019, 0.021);
        var index = layout.Parameters.Select((p, i) => (p.Name, i)).ToDictionary(p => p.Name, p => p.i);
        Assert.All(a.AsSpan(layout.OffsetOf(index["h.1.ln_2.weight"]), config.Width).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(a.AsSpan(layout.OffsetOf(index["h.1.mlp.c_fc.bias"]), 4 * config.Width).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_byte_does_not_change_the_predictions_before_it()
    {
        using var model = TransformerModel.Create(TransformerConfig.Tiny);
        model.Load(TransformerConfig.Tiny.InitialParameters(3));
        using var scope = NewDisposeScope();
        var tokens = tensor(Enumerable.Range(0, 16).Select(i => (long)(i * 7 % 256)).ToArray(), [1, 16]);
        var changed = tokens.clone();
        changed[0, 10] = tensor(255L);
        var a = model.Forward(tokens);
        var b = model.Forward(changed);
        Assert.True(a[.., ..10].allclose(b[.., ..10], rtol: 0, atol: 1e-6), "logits before the changed byte differ");
        Assert.False(a[.., 10..].allclose(b[.., 10..]), "logits from the changed byte on should differ");
    }

    [Fact]
    public void An_untrained_model_scores_close_to_8_bits_per_byte()
    {
        using var model = TransformerModel.Create(TransformerConfig.Tiny);
        model.Load(TransformerConfig.Tiny.InitialParameters(1));
        var text = RepetitiveText(1000);

        var result = BitsPerByte.Bpc(model, text, cancellationToken: TestContext.Current.CancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine($"untrained BPC {result.BitsPerByte:F4} over {result.BytesScored} bytes");
        Assert.Equal(999, result.BytesScored);
        Assert.InRange(result.BitsPerByte, 7.9, 8.1);
    }

    [Fact]
    public void A_diverged_model_reports_a_non_finite_bpc()
    {
        using var model = TransformerModel.Create(TransformerConfig.Tiny);
        var flat = TransformerConfig.Tiny.InitialParameters(1);
        flat[5] = float.NaN;
        model.Load(flat);

        var result = BitsPerByte.Bpc(model, RepetitiveText(200), cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(result.IsFinite);
    }

    [Fact]
    public void Training_on_a_repetitive_text_brings_bpc_well_below_8()
    {
        using var model = TransformerModel.Create(TransformerConfig.Tiny);
        model.Load(TransformerConfig.Tiny.InitialParameters(1));
        var text = RepetitiveText(8192);
        var heldOut = RepetitiveText(2000).AsSpan(37).ToArray();
        var before = BitsPerByte.Bpc(model, heldOut, cancellationToken: TestContext.Current.CancellationToken);

        var run = LanguageTrainer.Train(model, text, new LanguageTrainingOptions(300, 8, 3e-3), seed: 1, TestContext.Current.CancellationToken);

        var after = BitsPerByte.Bpc(model, heldOut, cancellationToken: TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"BPC {before.BitsPerByte:F4} -> {after.BitsPerByte:F4} after {run.Steps} steps ({run.Tokens} tokens, {run.Elapsed.TotalSeconds:F1} s, last loss {run.LastLoss:F4})");
        Assert.True(after.BitsPerByte < 2, $"BPC {before.BitsPerByte} -> {after.BitsPerByte}");
    }

    [Fact]
    public void Training_is_bit_identical_for_a_seed()
    {
        var text = RepetitiveText(4096);
        float[] Run(ulong seed, LanguageOptimizer optimizer)
        {
            using var model = TransformerModel.Create(TransformerConfig.Tiny);
            model.Load(TransformerConfig.Tiny.InitialParameters(1));
            LanguageTrainer.Train(model, text, new LanguageTrainingOptions(10, 4, 1e-3) { Optimizer = optimizer, WeightDecay = 0.01 }, seed, TestContext.Current.CancellationToken);
            return model.ToFlat();
        }
        var a = Run(5, LanguageOptimizer.AdamW);
        Assert.Equal(a, Run(5, LanguageOptimizer.AdamW));
        Assert.NotEqual(a, Run(6, LanguageOptimizer.AdamW));
        Assert.Equal(Run(5, LanguageOptimizer.Sgd), Run(5, LanguageOptimizer.Sgd));
    }
}
