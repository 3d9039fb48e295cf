using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skein.Cli.Network;
using Skein.Learning.Data;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein bench memory`: what each kind of process holds, idle and at its peak, and the whole demo.</summary>
public static class BenchMemoryCommand
{
    public static Command Build()
    {
        var command = new Command("memory", "Proportional (PSS) and private memory of a coordinator, a trainer and a validator of the 2NN (the demo's network) and of the CNN, at start, at their peak in a round and idle, with where it goes, and the whole demo's peak");
        var rounds = new Option<uint>("--rounds") { Description = "Rounds of the 2NN run (the demo's network: 10 trainers, 3 validators)", DefaultValueFactory = _ => 5u };
        var cnnRounds = new Option<uint>("--cnn-rounds") { Description = "Rounds of the CNN run (3 trainers, 1 validator; 0: skip)", DefaultValueFactory = _ => 2u };
        var synthetic = new Option<int>("--synthetic-data") { Description = "Synthetic MNIST-shaped images, this many per node, instead of MNIST (no download; tests and smoke runs)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout (progress goes to stderr)" };
        var data = new DataOptions();
        foreach (var o in new Option[] { rounds, cnnRounds, synthetic, json })
        {
            command.Add(o);
        }
        data.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            if (!OperatingSystem.IsLinux())
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, ["bench memory: reads /proc, so Linux only"]);
            }
            if (parse.GetValue(rounds) is < 1 or > 1000)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--rounds must be between 1 and 1000, got {parse.GetValue(rounds)}"]);
            }
            MnistFiles? files = null;
            if (parse.GetValue(synthetic) == 0)
            {
                using var loggers = CliLogging.Create();
                try
                {
                    files = await data.ResolveAsync(parse, loggers.CreateLogger("skein"), ct);
                }
                catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or IdxFormatException)
                {
                    return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
                }
            }
            var options = new MemoryBenchOptions
            {
                Rounds2nn = parse.GetValue(rounds),
                RoundsCnn = Math.Max(1, parse.GetValue(cnnRounds)),
                Cnn = parse.GetValue(cnnRounds) > 0,
                SyntheticExamples = parse.GetValue(synthetic),
            };
            var result = await new MemoryBench(options, files, stderr).RunAsync(ct);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
                return ExitCodes.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("role", "model", "n", "PSS start", "PSS peak", "PSS idle", "private peak", "RSS peak", "GC heap", "GC committed", "native", "JIT code", "libraries", "threads");
            foreach (var r in result.Processes)
            {
                var b = r.Breakdown;
                table.AddRow(r.Role, r.Model, $"{r.Processes}", $"{r.PssMbStartPeak:0}", $"{r.PssMbPeak:0}", $"{r.PssMbIdle:0}", $"{r.PrivateMbPeak:0}", $"{r.RssMbPeak:0}",
                    $"{b?.GcHeapMb:0}", $"{b?.GcCommittedMb:0}", $"{b?.NativeMb:0}", $"{b?.JitCodeMb:0}", $"{b?.LibrariesMb:0}", $"{b?.Threads}");
            }
            console.Write(table);
            console.MarkupLine($"Whole demo (the 2NN run, {result.DemoProcesses} processes with this one): peak {result.DemoPssMbPeak:0} MB PSS; this process {result.BenchProcessPssMbPeak:0} MB. Targets {(result.TargetsMet ? "[green]met[/]" : "[red]not met[/]")}. MB throughout.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
