using Skein.Aggregation;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation;
using Skein.Simulation.Attacks;
using Skein.Simulation.Benchmarks;

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
        Assert.True(r.SamplesPerSecond > 0 && r.SingleWorkerSamplesPerSecond > 0 && r.NodeSamplesPerSecond > 0);
        Assert.Equal(r.SamplesPerSecond / r.SingleWorkerSamplesPerSecond, r.Speedup, 1e-9);
    }
}

public sealed class AttackTests
{
    private static readonly LabeledImages Train = SyntheticImages.Create(2_000, 1);
    private static readonly LabeledImages Test = SyntheticImages.Create(500, 2);

    private static SimulationOptions Options(AttackOptions? attack) => new()
    {
        Model = ModelKind.LogReg,
        Clients = 20,
        Fraction = 0.5,
        Rounds = 5,
        BatchSize = 20,
        LearningRate = 0.1,
        Seed = 5,
        Parallelism = 2,
        Attack = attack,
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
    public void The_malicious_set_has_the_requested_size_and_is_seeded()
    {
        using var a = new SimulationRunner(Train, Test, Options(new AttackOptions(AttackKind.SignFlip, 0.3)));
        using var b = new SimulationRunner(Train, Test, Options(new AttackOptions(AttackKind.SignFlip, 0.3)));
        Assert.Equal(6, a.MaliciousClients.Count);
        Assert.Equal(a.MaliciousClients.Order(), b.MaliciousClients.Order());
    }

    [Theory]
    [InlineData(AttackKind.SignFlip)]
    [InlineData(AttackKind.Gaussian)]
    [InlineData(AttackKind.Scaled)]
    public async Task Strong_attacks_hurt_fedavg(AttackKind kind)
    {
        var clean = await Run(Options(null));
        var attacked = await Run(Options(new AttackOptions(kind, 0.3) { Scale = 10, Sigma = 5 }));
        Assert.True(attacked.FinalAccuracy < clean.FinalAccuracy - 0.1, $"{kind}: clean {clean.FinalAccuracy}, attacked {attacked.FinalAccuracy}");
        Assert.Contains(attacked.Rounds, r => r.MaliciousClients > 0);
    }

    [Fact]
    public async Task A_diverging_run_refuses_non_finite_rounds_and_carries_on()
    {
        var report = await Run(Options(new AttackOptions(AttackKind.SignFlip, 0.3) { Scale = 1e38 }));
        Assert.Equal(5, report.Rounds.Count);
        Assert.Contains(report.Rounds, r => r.AggregationError is not null || r.RefusedUpdates > 0);
        Assert.All(report.Rounds, r => Assert.InRange(r.Accuracy, 0.0, 1.0));
    }

    [Fact]
    public async Task Zero_free_riders_only_dilute_the_update()
    {
        var clean = await Run(Options(null));
        var riders = await Run(Options(new AttackOptions(AttackKind.FreeRider, 0.3)));
        Assert.NotEqual(clean.FinalModelSha256, riders.FinalModelSha256);
        Assert.True(riders.FinalAccuracy > 0.5, $"free riders should not destroy the model, accuracy {riders.FinalAccuracy}");
    }

    [Fact]
    public async Task Stale_free_riders_replay_the_last_global_change()
    {
        var zero = await Run(Options(new AttackOptions(AttackKind.FreeRider, 0.3)));
        var stale = await Run(Options(new AttackOptions(AttackKind.FreeRider, 0.3) { Stale = true }));
        Assert.NotEqual(zero.FinalModelSha256, stale.FinalModelSha256);
    }

    [Fact]
    public async Task Label_flippers_train_on_flipped_labels()
    {
        var clean = await Run(Options(null));
        var flipped = await Run(Options(new AttackOptions(AttackKind.LabelFlip, 0.5)));
        Assert.True(flipped.FinalAccuracy < clean.FinalAccuracy, $"clean {clean.FinalAccuracy}, flipped {flipped.FinalAccuracy}");
    }

    [Theory]
    [InlineData("sign_flip", 1.0, "attack.fraction")]
    [InlineData("sign_flip", -0.1, "attack.fraction")]
    [InlineData("teleport", 0.1, "attack.type")]
    public void Bad_attack_specs_name_the_field(string type, double fraction, string field)
    {
        var ex = Assert.Throws<ArgumentException>(() => AttackOptions.Parse(type, fraction, null));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        Assert.Contains("attack.params.sigma", Assert.Throws<ArgumentException>(() =>
            AttackOptions.Parse("gaussian", 0.1, new Dictionary<string, double> { ["sigma"] = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("attack.params.scale", Assert.Throws<ArgumentException>(() =>
            AttackOptions.Parse("gaussian", 0.1, new Dictionary<string, double> { ["scale"] = 2 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FedProx_mu_pulls_clients_towards_the_global_model()
    {
        var plain = await Run(Options(null) with { Partition = PartitionKind.Shards });
        var prox = await Run(Options(null) with { Partition = PartitionKind.Shards, Strategy = new StrategySpec("fedprox", new Dictionary<string, double> { ["mu"] = 1.0 }) });
        Assert.NotEqual(plain.FinalModelSha256, prox.FinalModelSha256);
        // A strong proximal term shortens the client steps, so training loss falls more slowly.
        Assert.True(prox.Rounds[0].TrainLoss > plain.Rounds[0].TrainLoss, $"plain {plain.Rounds[0].TrainLoss}, prox {prox.Rounds[0].TrainLoss}");
        var ex = Assert.Throws<ArgumentException>(() => new SimulationRunner(Train, Test,
            Options(null) with { Strategy = new StrategySpec("fedprox", new Dictionary<string, double> { ["mu"] = -1 }) }));
        Assert.Contains("strategy.parameters.mu", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dp_fedavg_reports_a_growing_epsilon_and_fills_in_expected_clients()
    {
        var dp = new StrategySpec("dpfedavg", new Dictionary<string, double> { ["clip"] = 1, ["noise_multiplier"] = 1.0, ["delta"] = 1e-5 });
        var report = await Run(Options(null) with { Strategy = dp });
        var eps = report.Rounds.Select(r => r.Epsilon!.Value).ToArray();
        Assert.All(eps, e => Assert.True(e > 0));
        Assert.True(eps.Zip(eps.Skip(1)).All(p => p.Second > p.First), string.Join(", ", eps));
        Assert.Null((await Run(Options(null))).Rounds[0].Epsilon);
        Assert.Contains("strategy.parameters.delta", SimulationRunner.StrategyError(
            new StrategySpec("dpfedavg", new Dictionary<string, double> { ["clip"] = 1, ["noise_multiplier"] = 1, ["delta"] = 2 }), Options(null)));
        Assert.Contains("strategy.parameters.noise_multiplier", SimulationRunner.StrategyError(
            new StrategySpec("dpfedavg", new Dictionary<string, double> { ["clip"] = 1 }), Options(null)));
    }
}
