using System.Text;
using Skein.Learning.Language;
using Skein.Simulation.Text;

namespace Skein.Simulation.Tests.Text;

public sealed class TextFederationTests
{
    private static readonly TextFederationOptions Small = new()
    {
        PretrainSteps = 30, Rounds = 3, LocalSteps = 15, BatchSize = 4, HeldOutBytes = 2_048, Lora = LoraConfig.Default with { Rank = 4, FreezeA = true },
    };

    private static ReadOnlyMemory<byte> Text(string line, int repeat) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(line, repeat)));

    [Fact]
    public void Federated_adapters_lower_the_held_out_bpc_of_a_text_the_trainers_share_and_the_run_reports_every_round()
    {
        var ct = TestContext.Current.CancellationToken;
        // The base corpus is unlike the trainers' texts; the held-out text is the trainers' kind of text.
        var report = TextFederation.Run(Text("call me ishmael. some years ago, never mind how long precisely. ", 40),
            [Text("the state of the union is strong. ", 60), Text("the union of the states is strong and the state is sound. ", 40)],
            Text("the state of the union is strong and sound. ", 60), Small, cancellationToken: ct);

        Assert.Equal([1, 2, 3], report.Rounds.Select(r => r.Round));
        Assert.All(report.Rounds, r => Assert.True(double.IsFinite(r.Bpc)));
        Assert.Equal(2, report.LocalOnlyBpc.Count);
        Assert.True(report.FinalBpc < report.BaseBpc, $"final {report.FinalBpc} not below base {report.BaseBpc}");
        Assert.True(report.AdapterParameters < report.BaseParameters);
    }

    [Fact]
    public void The_same_seed_gives_the_same_figures()
    {
        var ct = TestContext.Current.CancellationToken;
        TextFederationReport Once() => TextFederation.Run(Text("abc abd abe ", 50), [Text("xyz xya ", 50), Text("xyq xyr ", 50)], Text("xyz xyq ", 40),
            Small with { Rounds = 1, PretrainSteps = 5, LocalSteps = 5 }, cancellationToken: ct);
        var (a, b) = (Once(), Once());
        Assert.Equal((a.BaseBpc, a.FinalBpc), (b.BaseBpc, b.FinalBpc));
        Assert.Equal(a.LocalOnlyBpc, b.LocalOnlyBpc);
    }

    [Fact]
    public void No_trainers_is_refused()
    {
        var refused = Assert.Throws<ArgumentException>(() => TextFederation.Run(Text("a", 10), [], Text("a", 10), Small, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("at least one trainer", refused.Message, StringComparison.Ordinal);
    }
}
