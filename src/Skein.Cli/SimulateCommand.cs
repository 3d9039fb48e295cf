using System.CommandLine;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>`skein simulate`: an in-process federated run with every option of the runner.</summary>
public static class SimulateCommand
{
    public static Command Build() => SimulationSession.BuildCommand(
        "simulate", "Run federated training in one process with your own configuration", new SimulationOptions(), "Skein simulation");
}
