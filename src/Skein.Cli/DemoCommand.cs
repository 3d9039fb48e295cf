using System.CommandLine;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>`skein demo`: the walking skeleton, a federated run on real MNIST that reaches 97% in minutes.</summary>
public static class DemoCommand
{
    /// <summary>
    /// Chosen so that a 2-core machine reaches at least 97% test accuracy well inside five minutes; the figures
    /// behind the choice are in docs/benchmarks.md.
    /// </summary>
    public static SimulationOptions Defaults { get; } = new()
    {
        Model = ModelKind.Mlp2NN,
        Clients = 100,
        Fraction = 0.1,
        Rounds = 60,
        LocalEpochs = 1,
        BatchSize = 10,
        LearningRate = 0.05,
        Partition = PartitionKind.Iid,
        TargetAccuracy = 0.97,
    };

    public static Command Build()
    {
        var command = new Command("demo", "Train a model federatedly on MNIST and watch the accuracy climb");
        var sim = new SimulationCliOptions(Defaults);
        var data = new DataOptions();
        var output = new OutputOptions();
        sim.AddTo(command);
        data.AddTo(command);
        output.AddTo(command);
        command.SetAction((parse, ct) => SimulationSession.RunAsync(parse, sim, data, output, "Skein demo: federated MNIST", ct));
        return command;
    }
}
