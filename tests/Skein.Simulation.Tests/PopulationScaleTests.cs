using System.Runtime.InteropServices;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;

namespace Skein.Simulation.Tests;

/// <summary>Simulation at population scale: more clients than examples, O(1) state per client, costs reported.</summary>
public sealed class PopulationScaleTests
{
    private static readonly LabeledImages Train = SyntheticImages.Create(2_000, 1);
    private static readonly LabeledImages Test = SyntheticImages.Create(300, 2);

    /// <summary>MNIST's label counts in shape: 60,000 labels of 10 classes, seeded.</summary>
    private static byte[] MnistSizedLabels()
    {
        var rng = new DeterministicRandom(3);
        return Enumerable.Range(0, 60_000).Select(_ => (byte)rng.NextInt(10)).ToArray();
    }

    private static SimulationOptions Population(int clients = 100_000) => new()
    {
        Model = ModelKind.Mlp2NN,
        Clients = clients,
        Fraction = 0.001,
        Rounds = 2,
        BatchSize = 10,
        LearningRate = 0.1,
        Seed = 8,
        Parallelism = 2,
    };

    [Theory]
    [InlineData(PartitionKind.Iid)]
    [InlineData(PartitionKind.Dirichlet)]
    public void A_partition_of_60000_examples_among_100000_clients_gives_every_example_to_exactly_one_client(PartitionKind kind)
    {
        var labels = MnistSizedLabels();
        var partition = DataPartitioner.CreatePartition(kind, labels, 10, 100_000, 5);

        Assert.Equal(100_000, partition.Count);
        Assert.Equal(60_000, partition.ExampleCount);
        var owner = new int[labels.Length];
        Array.Fill(owner, -1);
        var total = 0L;
        for (var c = 0; c < partition.Count; c++)
        {
            var mine = partition[c];
            Assert.Equal(mine.Count, partition.SizeOf(c));
            total += mine.Count;
            for (var i = 0; i < mine.Count; i++)
            {
                Assert.True(owner[mine[i]] == -1, $"example {mine[i]} held by clients {owner[mine[i]]} and {c}");
                owner[mine[i]] = c;
                Assert.True(i == 0 || mine[i - 1] < mine[i], $"client {c}'s indices are not ascending");
            }
        }
        Assert.Equal(60_000, total);
        Assert.DoesNotContain(-1, owner);
        Assert.Equal(partition.Count(p => p.Count > 0), partition.NonEmptyClients);
        Assert.Equal(partition.NonEmptyClients, partition.NonEmptyClientIds().Length);
        if (kind == PartitionKind.Iid)
        {
            // Dealt as evenly as 60,000 over 100,000 allows: one example each for 60,000 clients, none for the rest.
            Assert.Equal(60_000, partition.NonEmptyClients);
            Assert.All(partition, p => Assert.InRange(p.Count, 0, 1));
        }

        Assert.Equal(Hash(partition), Hash(DataPartitioner.CreatePartition(kind, labels, 10, 100_000, 5)));
        Assert.NotEqual(Hash(partition), Hash(DataPartitioner.CreatePartition(kind, labels, 10, 100_000, 6)));
    }

    [Fact]
    public async Task A_run_of_100000_clients_completes_samples_only_clients_with_data_and_reports_its_costs()
    {
        using var runner = new SimulationRunner(Train, Test, Population());
        var reports = new List<RoundReport>();
        await foreach (var r in runner.RunAsync(TestContext.Current.CancellationToken))
        {
            reports.Add(r);
            Assert.Equal(100, r.ClientsTrained);
            Assert.True(r.Evaluated);
            Assert.True(r.TrainSeconds > 0 && r.Seconds >= r.TrainSeconds + r.EvaluationSeconds, $"round {r.Round}: {r}");
            Assert.True(r.ClientTrainSecondsSum > 0);
            Assert.InRange(r.Accuracy, 0.0, 1.0);
        }
        Assert.Equal(2, reports.Count);
        Assert.All(runner.SampleClients(1).Concat(runner.SampleClients(2)), c => Assert.True(runner.Partition.SizeOf(c) > 0, $"client {c} holds nothing"));
        // One delta buffer per client of a round, allocated in the first round and reused by the second.
        Assert.InRange(runner.DeltaBuffersAllocated, 1, 100);

        var report = runner.BuildReport(1);
        Assert.True(report.PeakMemoryBytes > 0);
        Assert.InRange(report.OverheadFraction, 0.0, 1.0);
        Assert.InRange(report.StrictOverheadFraction, report.OverheadFraction, 1.0);
        Assert.Equal(reports.Sum(r => r.Seconds), report.RoundSeconds, 9);
        Assert.Equal(reports.Sum(r => r.TrainSeconds), report.TrainingSeconds, 9);
        Assert.True(report.LocalTrainingSeconds > 0 && report.LocalTrainingSeconds <= report.TrainingSeconds * 1.01,
            $"local training {report.LocalTrainingSeconds} s beside a clients' phase of {report.TrainingSeconds} s");
    }

    [Fact]
    public void State_per_client_is_a_few_bytes_not_a_copy_of_its_data()
    {
        // Managed bytes a runner allocates for 100,000 clients beyond what it allocates for 1,000 on the same data:
        // the offsets and the list of clients with data, 8 bytes a client, not tensors or arrays per client.
        static long Allocated(int clients)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            using var runner = new SimulationRunner(Train, Test, Population(clients));
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(1_000); // warm up type loading and the torch runtime
        var perClient = (Allocated(100_000) - Allocated(1_000)) / 99_000.0;
        Assert.True(perClient < 16, $"{perClient:0.0} bytes per client");
        Assert.Equal(4, ClientPartition.BytesPerClient);
    }

    [Fact]
    public void With_every_client_holding_data_sampling_is_the_plain_m_of_k_draw_it_always_was()
    {
        var options = Population(200) with { Fraction = 0.05 };
        using var runner = new SimulationRunner(Train, Test, options);
        Assert.Equal(200, runner.Partition.NonEmptyClients);
        for (var round = 1; round <= 3; round++)
        {
            Assert.Equal(DeterministicRandom.Derive(options.Seed, "round/sample", round).SampleWithoutReplacement(200, 10), runner.SampleClients(round));
        }
    }

    [Fact]
    public async Task Testing_every_k_rounds_changes_no_model_and_always_tests_the_last_round()
    {
        var every = Population(2_500) with { Fraction = 0.02, Rounds = 5 };
        var sparse = every with { EvaluateEvery = 2 };
        var (a, ra) = await Run(every);
        var (b, rb) = await Run(sparse);
        Assert.Equal(a.FinalModelSha256, b.FinalModelSha256);
        Assert.Equal(a.FinalAccuracy, b.FinalAccuracy);
        Assert.Equal([false, true, false, true, true], rb.Select(r => r.Evaluated));
        Assert.All(rb.Where(r => !r.Evaluated), r => Assert.True(double.IsNaN(r.Accuracy) && r.EvaluationSeconds == 0));
        Assert.Null(b.DivergedRound);
        Assert.All(ra, r => Assert.True(r.Evaluated));
    }

    [Fact]
    public void Options_allow_more_clients_than_examples_except_where_the_partition_cannot()
    {
        Assert.Empty(Population().Validate(60_000));
        Assert.Empty((Population() with { Partition = PartitionKind.Dirichlet }).Validate(60_000));
        Assert.Contains((Population() with { Partition = PartitionKind.Shards }).Validate(60_000), e => e.Contains("--partition shards", StringComparison.Ordinal));
        Assert.Contains(Population(SimulationOptions.MaxClients + 1).Validate(60_000), e => e.Contains("--clients", StringComparison.Ordinal));
        Assert.Contains((Population() with { EvaluateEvery = 0 }).Validate(60_000), e => e.Contains("--eval-every", StringComparison.Ordinal));
    }

    private static async Task<(SimulationReport Report, IReadOnlyList<RoundReport> Rounds)> Run(SimulationOptions options)
    {
        using var runner = new SimulationRunner(Train, Test, options);
        await foreach (var _ in runner.RunAsync(TestContext.Current.CancellationToken))
        {
        }
        return (runner.BuildReport(0), runner.Rounds.ToArray());
    }

    private static string Hash(ClientPartition partition)
    {
        var all = new List<int>();
        foreach (var p in partition)
        {
            all.Add(-1);
            all.AddRange(p);
        }
        return Hashing.Sha256Hex(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(all)));
    }
}
