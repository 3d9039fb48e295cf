using Skein.Console.Components;

namespace Skein.Console.Tests;

public sealed class SpecViewTests
{
    [Fact]
    public void A_fine_tuning_task_is_told_apart_so_that_its_curve_reads_as_bits_per_byte()
    {
        var fineTuning = $$"""
            { "name": "ft", "model": { "name": "transformer-tiny", "base": "{{new string('e', 64)}}", "adapter": { "rank": 8 } },
              "data": { "dataset": "sotu" }, "validation": { "score": "bpc" }, "rounds": 2, "trainers_per_round": 2, "reward_pool": "1" }
            """;
        const string vision = """{ "name": "v", "model": "2nn", "rounds": 2, "trainers_per_round": 2, "reward_pool": "1" }""";
        Assert.True(SpecView.IsFineTuning(fineTuning));
        Assert.False(SpecView.IsFineTuning(vision));
        Assert.False(SpecView.IsFineTuning(null));
        Assert.False(SpecView.IsFineTuning(fineTuning.Replace("\"bpc\"", "\"accuracy\"", StringComparison.Ordinal)));
    }
}
