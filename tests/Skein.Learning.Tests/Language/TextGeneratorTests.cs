using System.Text;
using Skein.Learning.Language;

namespace Skein.Learning.Tests.Language;

public sealed class TextGeneratorTests
{
    private const string Verse = "the quick brown fox jumps over the lazy dog. ";

    private static TransformerModel Untrained(ulong seed)
    {
        var model = TransformerModel.Create(TransformerConfig.Tiny);
        model.Load(TransformerConfig.Tiny.InitialParameters(seed));
        return model;
    }

    [Fact]
    public void One_seed_gives_one_text_and_another_seed_another()
    {
        using var model = Untrained(1);
        var ct = TestContext.Current.CancellationToken;

        var a = TextGenerator.GenerateBytes(model, "Call me"u8, 100, 1.0, 7, ct);
        var b = TextGenerator.GenerateBytes(model, "Call me"u8, 100, 1.0, 7, ct);
        var c = TextGenerator.GenerateBytes(model, "Call me"u8, 100, 1.0, 8, ct);

        Assert.Equal(100, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Greedy_generation_ignores_the_seed_and_runs_past_the_context_length()
    {
        using var model = Untrained(1);
        var ct = TestContext.Current.CancellationToken;
        var longer = TransformerConfig.Tiny.Context * 2;

        Assert.Equal(TextGenerator.GenerateBytes(model, "x"u8, longer, 0, 1, ct), TextGenerator.GenerateBytes(model, "x"u8, longer, 0, 2, ct));
        Assert.Equal(longer, TextGenerator.GenerateBytes(model, ""u8, longer, 0, 1, ct).Length);
    }

    [Fact]
    public void A_model_trained_on_a_repeated_sentence_continues_it_greedily()
    {
        using var model = Untrained(3);
        var corpus = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Verse, 60)));
        LanguageTrainer.Train(model, corpus, new LanguageTrainingOptions(150, 16, 3e-3), 3, TestContext.Current.CancellationToken);

        var text = TextGenerator.Generate(model, "the quick brown", 2 * Verse.Length, 0, 0, TestContext.Current.CancellationToken);

        Assert.Equal((Verse + Verse + Verse).Substring(15, 2 * Verse.Length), text);
    }

    [Fact]
    public void Invalid_utf8_is_replaced_not_thrown_on()
    {
        Assert.Equal("a\uFFFD", TextGenerator.DecodeLenient([(byte)'a', 0xE2, 0x82]));
    }

    [Fact]
    public void A_negative_temperature_is_refused()
    {
        using var model = Untrained(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextGenerator.Generate(model, "a", 1, -1, 0, TestContext.Current.CancellationToken));
    }
}
