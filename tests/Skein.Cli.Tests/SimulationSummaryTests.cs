using System.Text.Json;
using Skein.Simulation;

namespace Skein.Cli.Tests;

/// <summary>The simulate summary's cost fields: what a population-scale run reports beside its accuracy.</summary>
public sealed class SimulationSummaryTests
{
    private static SimulationReport Report()
    {
        var rounds = new[]
        {
            new RoundReport(1, double.NaN, double.NaN, 1.0, 100, 0, 100, 2.3, 0.8, 0.01) { AggregationSeconds = 0.05, Evaluated = false, ClientTrainSecondsSum = 1.2 },
            new RoundReport(2, 0.5, 1.9, 1.5, 100, 0, 100, 2.1, 0.9, 0.01) { AggregationSeconds = 0.05, EvaluationSeconds = 0.5, ClientTrainSecondsSum = 1.4 },
        };
        return new SimulationReport(new SimulationOptions { Clients = 100_000, Fraction = 0.001, Parallelism = 2, EvaluateEvery = 2 }, rounds, 0.5, 1.9, 3, 100, null, new string('0', 64))
        {
            PeakMemoryBytes = 600L * 1024 * 1024,
        };
    }

    [Fact]
    public void The_summary_reports_memory_and_where_the_rounds_time_went()
    {
        using var doc = JsonDocument.Parse(RunSummary.From(Report()).ToJson());
        var root = doc.RootElement;
        Assert.Equal(600, root.GetProperty("peak_memory_mb").GetDouble());
        Assert.Equal(2, root.GetProperty("eval_every").GetInt32());
        Assert.Equal(2.5, root.GetProperty("round_seconds").GetDouble(), 9);
        Assert.Equal(1.7, root.GetProperty("training_seconds").GetDouble(), 9);
        Assert.Equal(0.5, root.GetProperty("eval_seconds").GetDouble(), 9);
        Assert.Equal(0.3, root.GetProperty("overhead_seconds").GetDouble(), 9);
        // Overhead over the time outside testing: 0.3 of 2.0 seconds.
        Assert.Equal(0.15, root.GetProperty("overhead_fraction").GetDouble(), 9);
        // Training proper: 1.2 / 2 + 1.4 / 2 = 1.3 s of the 2.0, so 0.7 s is counted against the simulator.
        Assert.Equal(1.3, root.GetProperty("local_training_seconds").GetDouble(), 9);
        Assert.Equal(0.35, root.GetProperty("strict_overhead_fraction").GetDouble(), 9);
    }

    [Fact]
    public void A_round_that_skips_the_test_has_null_accuracy_and_is_not_a_divergence()
    {
        using var doc = JsonDocument.Parse(RunSummary.From(Report()).ToJson());
        var root = doc.RootElement;
        var first = root.GetProperty("rounds")[0];
        Assert.False(first.GetProperty("evaluated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("accuracy").ValueKind);
        Assert.Equal(0.8, first.GetProperty("training_seconds").GetDouble(), 9);
        Assert.Equal(0.2, first.GetProperty("overhead_seconds").GetDouble(), 9);
        Assert.True(root.GetProperty("rounds")[1].GetProperty("evaluated").GetBoolean());
        Assert.False(root.GetProperty("diverged").GetBoolean());
        Assert.Equal(0.5, root.GetProperty("final_accuracy").GetDouble());
    }
}
