using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein bench ...`: measurements that are too slow for the unit suite.</summary>
public static class BenchCommand
{
    private static readonly string[] Headers = ["model", "B", "samples", "1 worker", "workers", "all workers", "speed-up"];

    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks (figures and how they were measured: docs/benchmarks.md)");
        bench.Add(BuildTrain());
        return bench;
    }

    private static Command BuildTrain()
    {
        var command = new Command("train", "Local training throughput per model on MNIST: one worker, then all workers at once");
        var models = new Option<string>("--models") { Description = "Comma-separated models to measure", DefaultValueFactory = _ => "logreg,2nn,cnn" };
        var samples = new Option<int>("--samples") { Description = "Training samples per measurement", DefaultValueFactory = _ => 6000 };
        var batch = new Option<int>("--batch-size") { Description = "B: minibatch size", DefaultValueFactory = _ => 10 };
        var workers = new Option<int>("--parallelism") { Description = "Clients trained at once (default: the core count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var data = new DataOptions();
        foreach (var o in new Option[] { models, samples, batch, workers, json })
        {
            command.Add(o);
        }
        data.AddTo(command);

        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            var kinds = new List<ModelKind>();
            foreach (var name in parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!ModelNames.TryParse(name, out var kind))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--models: '{name}' is not one of {string.Join(", ", ModelNames.All)}"]);
                }
                kinds.Add(kind);
            }
            var errors = new List<string>();
            if (parse.GetValue(samples) < 1)
            {
                errors.Add($"--samples must be >= 1, got {parse.GetValue(samples)}");
            }
            if (parse.GetValue(batch) < 1)
            {
                errors.Add($"--batch-size must be >= 1, got {parse.GetValue(batch)}");
            }
            if (parse.GetValue(workers) < 1 || parse.GetValue(workers) > parse.GetValue(samples))
            {
                errors.Add($"--parallelism must be between 1 and --samples, got {parse.GetValue(workers)}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }

            using var loggers = CliLogging.Create();
            MnistDataset dataset;
            try
            {
                dataset = MnistDataset.Load(await data.ResolveAsync(parse, loggers.CreateLogger("skein"), ct));
            }
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or IdxFormatException)
            {
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }

            var results = new List<TrainingThroughput>();
            foreach (var kind in kinds)
            {
                await stderr.WriteLineAsync($"measuring {kind.ToName()}...");
                results.Add(await TrainingBenchmark.MeasureAsync(dataset.Train, kind, parse.GetValue(samples), parse.GetValue(batch), parse.GetValue(workers), 42, ct));
            }

            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(new { results }, RunSummary.JsonOptions));
                return ExitCodes.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            var table = new Table().Border(TableBorder.Rounded).Title("Local training throughput (samples/s)");
            foreach (var h in Headers)
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }
            foreach (var r in results)
            {
                table.AddRow(r.Model, r.BatchSize.ToString(CultureInfo.InvariantCulture), r.Samples.ToString(CultureInfo.InvariantCulture),
                    r.SingleWorkerSamplesPerSecond.ToString("#,0", CultureInfo.InvariantCulture), r.Workers.ToString(CultureInfo.InvariantCulture),
                    r.SamplesPerSecond.ToString("#,0", CultureInfo.InvariantCulture), r.Speedup.ToString("0.00x", CultureInfo.InvariantCulture));
            }
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }
}
