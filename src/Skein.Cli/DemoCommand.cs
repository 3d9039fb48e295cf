using System.CommandLine;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>`skein demo`: the walking skeleton, a federated run on real MNIST that reaches 97% in minutes.</summary>
public static class DemoCommand
{
    /// <summary>
    /// McMahan et al.'s CNN on label-skewed (Dirichlet 0.5) clients: chosen so that a 2-core machine passes 97%
    /// test accuracy about halfway and ends near 98.3% in about three minutes. The runs behind the choice, and
    /// the faster but less realistic alternatives, are in docs/benchmarks.md.
    /// </summary>
    public static SimulationOptions Defaults { get; } = new()
    {
        Model = ModelKind.Cnn,
        Clients = 100,
        Fraction = 0.1,
        Rounds = 25,
        LocalEpochs = 1,
        BatchSize = 10,
        LearningRate = 0.05,
        Partition = PartitionKind.Dirichlet,
        DirichletAlpha = 0.5,
        TargetAccuracy = 0.97,
    };

    public static Command Build() => SimulationSession.BuildCommand(
        "demo", "Train a model federatedly on MNIST and watch the accuracy climb", Defaults, "Skein demo: federated MNIST");
}
