using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation;

namespace Skein.Simulation.Tests;

public sealed class SimulationRunnerTests
{
    private static LabeledImages Synthetic(int n, int seed) => SyntheticImages.Create(n, (ulong)seed);

    private static readonly LabeledImages Train = Synthetic(2_000, 1);
    private static readonly LabeledImages Test = Synthetic(500, 2);

    private static SimulationOptions Options(int parallelism = 2, PartitionKind partition = PartitionKind.Iid) => new()
    {
        Model = ModelKind.Mlp2NN,
        Clients = 20,
        Fraction = 0.25,
        Rounds = 4,
        LocalEpochs = 1,
        BatchSize = 10,
        LearningRate = 0.1,
        Partition = partition,
        Seed = 11,
        Parallelism = parallelism,
        TargetAccuracy = 0.5,
    };

    private static async Task<SimulationReport> Run(SimulationOptions options)
    {
        using var runner = new SimulationRunner(Train, Test, options);
        await foreach (var _ in runner.RunAsync(TestContext.Current.CancellationToken))
        {
        }
        return runner.BuildReport(0);
    }

    [Fact]
    public async Task Accuracy_climbs_over_rounds()
    {
        var report = await Run(Options());
        Assert.Equal(4, report.Rounds.Count);
        Assert.True(report.FinalAccuracy > 0.6, $"final accuracy {report.FinalAccuracy}");
        Assert.True(report.Rounds[^1].Loss < report.Rounds[0].Loss, "test loss did not fall");
        Assert.All(report.Rounds, r => Assert.Equal(5, r.ClientsTrained));
        Assert.NotNull(report.TargetRound);
        Assert.True(report.TrainSamplesPerSecond > 0);
    }

    [Fact]
    public async Task Runs_are_reproducible_bit_for_bit_whatever_the_parallelism()
    {
        var sequential = await Run(Options(parallelism: 1));
        var parallel = await Run(Options(parallelism: 2));
        var again = await Run(Options(parallelism: 2));
        Assert.Equal(sequential.FinalModelSha256, parallel.FinalModelSha256);
        Assert.Equal(parallel.FinalModelSha256, again.FinalModelSha256);
        Assert.Equal(sequential.Rounds.Select(r => r.Accuracy), parallel.Rounds.Select(r => r.Accuracy));

        var otherSeed = await Run(Options() with { Seed = 12 });
        Assert.NotEqual(parallel.FinalModelSha256, otherSeed.FinalModelSha256);
    }

    [Fact]
    public async Task Stop_at_target_ends_the_run_at_the_first_round_that_reaches_it()
    {
        var report = await Run(Options() with { Rounds = 20, TargetAccuracy = 0.3, StopAtTarget = true });
        Assert.Equal(report.TargetRound, report.Rounds.Count);
        Assert.True(report.Rounds[^1].Accuracy >= 0.3);
        Assert.All(report.Rounds.SkipLast(1), r => Assert.True(r.Accuracy < 0.3));
    }

    [Fact]
    public void Client_sampling_is_seeded_and_picks_m_distinct_clients()
    {
        using var runner = new SimulationRunner(Train, Test, Options());
        var r1 = runner.SampleClients(1);
        Assert.Equal(5, r1.Length);
        Assert.Equal(5, r1.Distinct().Count());
        Assert.Equal(r1, runner.SampleClients(1));
        Assert.NotEqual(r1, runner.SampleClients(2));
    }

    [Fact]
    public void Clients_never_share_examples()
    {
        using var runner = new SimulationRunner(Train, Test, Options(partition: PartitionKind.Shards));
        var all = runner.Partition.SelectMany(p => p).ToArray();
        Assert.Equal(Train.Count, all.Distinct().Count());
        Assert.Equal(Train.Count, all.Length);
    }

    [Theory]
    [InlineData("clients")]
    [InlineData("fraction")]
    [InlineData("rounds")]
    [InlineData("lr")]
    public void Invalid_options_name_the_option(string field)
    {
        var bad = field switch
        {
            "clients" => Options() with { Clients = 0 },
            "fraction" => Options() with { Fraction = 1.5 },
            "rounds" => Options() with { Rounds = 0 },
            _ => Options() with { LearningRate = double.PositiveInfinity },
        };
        var ex = Assert.Throws<ArgumentException>(() => new SimulationRunner(Train, Test, bad));
        Assert.Contains("--" + field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clients_per_round_follows_the_paper()
    {
        Assert.Equal(10, (Options() with { Clients = 100, Fraction = 0.1 }).ClientsPerRound);
        Assert.Equal(1, (Options() with { Clients = 100, Fraction = 0.001 }).ClientsPerRound);
        Assert.Equal(100, (Options() with { Clients = 100, Fraction = 1 }).ClientsPerRound);
    }

    [Fact]
    public async Task Training_benchmark_measures_both_configurations_in_one_run()
    {
        var r = await TrainingBenchmark.MeasureAsync(Train, ModelKind.LogReg, 400, 20, 2, 1, TestContext.Current.CancellationToken);
        Assert.Equal("logreg", r.Model);
        Assert.Equal(400, r.Samples);
        Assert.True(r.SamplesPerSecond > 0 && r.SingleWorkerSamplesPerSecond > 0);
        Assert.Equal(r.SamplesPerSecond / r.SingleWorkerSamplesPerSecond, r.Speedup, 1e-9);
    }
}
