using Skein.Learning.Language;

namespace Skein.Learning.Tests.Language;

public sealed class LanguageBenchmarkTests
{
    private static void Report(LanguageBenchmarkResult r) => TestContext.Current.TestOutputHelper?.WriteLine(
        $"{r.Model} lora={(r.Lora is null ? "no" : $"r{r.Lora.Rank}")}: {r.TokensPerSecond:F0} tokens/s over {r.Steps} steps, " +
        $"{r.FullParameters} parameters ({r.FullUploadBytes} bytes as safetensors), {r.TrainableParameters} trained, adapter upload {r.AdapterUploadBytes} bytes");

    [Fact]
    public void An_adapter_uploads_a_fraction_of_the_full_model()
    {
        var full = LanguageBenchmark.Run(TransformerConfig.Tiny, null, 3, 4, 1, TestContext.Current.CancellationToken);
        var lora = LanguageBenchmark.Run(TransformerConfig.Tiny, LoraConfig.Default, 3, 4, 1, TestContext.Current.CancellationToken);
        Report(full);
        Report(lora);
        Assert.True(full.TokensPerSecond > 0 && lora.TokensPerSecond > 0);
        Assert.Equal(3 * 4 * 64, full.Tokens);
        Assert.Equal(120_576, full.TrainableParameters);
        Assert.True(lora.AdapterUploadBytes * 4 < full.FullUploadBytes, $"{lora.AdapterUploadBytes} vs {full.FullUploadBytes}");
    }
}
