using System.CommandLine;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>`skein simulate`: an in-process federated run with every option of the runner.</summary>
public static class SimulateCommand
{
    public static Command Build()
    {
        var command = new Command("simulate", "Run federated training in one process with your own configuration");
        var sim = new SimulationCliOptions(new SimulationOptions());
        var data = new DataOptions();
        var output = new OutputOptions();
        sim.AddTo(command);
        data.AddTo(command);
        output.AddTo(command);
        command.SetAction((parse, ct) => SimulationSession.RunAsync(parse, sim, data, output, "Skein simulation", ct));
        return command;
    }
}
