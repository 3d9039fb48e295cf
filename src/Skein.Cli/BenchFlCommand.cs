using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Simulation;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>One run of `skein bench fl` in JSON. Field names are a public contract.</summary>
public sealed record FlRunResult(
    string Name,
    string Model,
    string Partition,
    int Clients,
    double Fraction,
    int Epochs,
    int BatchSize,
    double Lr,
    string Strategy,
    string? Attack,
    IReadOnlyList<FlRoundResult> Rounds,
    double? Target,
    int? TargetRound,
    int? PaperRounds,
    double FinalAccuracy,
    double BestAccuracy,
    double WallSeconds,
    double TrainSamplesPerSecond,
    string ModelSha256);

/// <summary>One round of a `skein bench fl` run.</summary>
public sealed record FlRoundResult(int Round, double Accuracy, double Loss, double Seconds, int Malicious, double? Epsilon, int Refused, string? AggregationError);

/// <summary>`skein bench fl --config FILE`: runs a scenario (or a matrix of them) and reports rounds to target.</summary>
public static class BenchFlCommand
{
    public static Command Build()
    {
        var command = new Command("fl", "Run a federated-learning scenario file (bench/fl/*.json) and report per-round accuracy and the round the target was reached");
        var config = new Option<string>("--config") { Description = "Scenario file (JSON)", Required = true, HelpName = "file" };
        var maxRounds = new Option<int?>("--max-rounds") { Description = "Override the scenario's round budget (for a quick look)" };
        var parallelism = new Option<int>("--parallelism") { Description = "Clients trained at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new OutputOptions();
        var data = new DataOptions();
        command.Add(config);
        command.Add(maxRounds);
        command.Add(parallelism);
        output.AddTo(command);
        data.AddTo(command);

        command.SetAction(async (parse, ct) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            FlBenchConfig scenario;
            IReadOnlyList<SimulationOptions> runs;
            try
            {
                scenario = FlBenchConfig.Load(parse.GetValue(config)!);
                var p = parse.GetValue(parallelism);
                if (p < 1)
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--parallelism must be >= 1, got {p}"]);
                }
                runs = scenario.ToRuns(p);
                if (parse.GetValue(maxRounds) is { } r)
                {
                    if (r < 1)
                    {
                        return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--max-rounds must be >= 1, got {r}"]);
                    }
                    runs = runs.Select(o => o with { Rounds = r }).ToArray();
                }
            }
            catch (Exception ex) when (ex is FormatException or FileNotFoundException or ArgumentException)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [ex.Message]);
            }

            var summaryPath = parse.GetValue(output.Summary);
            var json = parse.GetValue(output.Json);
            if (await data.LoadAsync(parse, ct) is not { } dataset)
            {
                return ExitCodes.DataUnavailable;
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(json ? stderr : stdout) });
            if (!console.Profile.Capabilities.Interactive)
            {
                console.Profile.Width = 132;
            }
            var results = new List<FlRunResult>();
            try
            {
                foreach (var run in runs)
                {
                    var clock = Stopwatch.StartNew();
                    using var runner = new SimulationRunner(dataset.Train, dataset.Test, run);
                    var title = $"{scenario.Name}: {run.Strategy.Name}{(run.Attack is null ? ", no attack" : ", " + run.Attack)}";
                    await new SimulationView(console, title, run).RunAsync(runner, ct);
                    var report = runner.BuildReport(clock.Elapsed.TotalSeconds);
                    results.Add(ToResult(scenario, run, report));
                    console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"  final accuracy {report.FinalAccuracy:0.0000}, target round {report.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "not reached"}, {report.WallSeconds:0.0} s")));
                }
            }
            catch (ArgumentException ex)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [ex.Message]);
            }
            catch (TorchUnavailableException ex)
            {
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }

            var text = scenario.Matrix is null
                ? JsonSerializer.Serialize(results[0], RunSummary.JsonOptions)
                : JsonSerializer.Serialize(new { name = scenario.Name, runs = results }, RunSummary.JsonOptions);
            if (summaryPath is not null)
            {
                await File.WriteAllTextAsync(summaryPath, text + "\n", ct);
            }
            if (json)
            {
                await stdout.WriteLineAsync(text);
            }
            else
            {
                RenderResults(console, results, scenario.Matrix is not null);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static FlRunResult ToResult(FlBenchConfig scenario, SimulationOptions run, SimulationReport report) => new(
        scenario.Name,
        run.Model.ToName(),
        run.Partition.ToString().ToLowerInvariant(),
        run.Clients,
        run.Fraction,
        run.LocalEpochs,
        run.BatchSize,
        run.LearningRate,
        new StrategyConfig { Name = run.Strategy.Name, Params = run.Strategy.Parameters.ToDictionary() }.ToString(),
        run.Attack?.ToString(),
        report.Rounds.Select(r => new FlRoundResult(r.Round, Math.Round(r.Accuracy, 6), Math.Round(r.Loss, 6), Math.Round(r.Seconds, 3), r.MaliciousClients, r.Epsilon is { } e ? Math.Round(e, 4) : null, r.RefusedUpdates, r.AggregationError)).ToArray(),
        run.TargetAccuracy,
        report.TargetRound,
        scenario.PaperRounds,
        Math.Round(report.FinalAccuracy, 6),
        Math.Round(report.Rounds.Count == 0 ? 0 : report.Rounds.Max(r => r.Accuracy), 6),
        Math.Round(report.WallSeconds, 3),
        Math.Round(report.TrainSamplesPerSecond, 1),
        report.FinalModelSha256);

    private static void RenderResults(IAnsiConsole console, IReadOnlyList<FlRunResult> results, bool matrix)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(matrix ? "Scenario matrix" : "Scenario");
        foreach (var h in new[] { "strategy", "attack", "final acc.", "best acc.", "target round", "paper", "seconds" })
        {
            table.AddColumn(h);
        }
        foreach (var r in results)
        {
            table.AddRow(Markup.Escape(r.Strategy), Markup.Escape(r.Attack ?? "none"),
                r.FinalAccuracy.ToString("0.0000", CultureInfo.InvariantCulture), r.BestAccuracy.ToString("0.0000", CultureInfo.InvariantCulture),
                r.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "-", r.PaperRounds?.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.WallSeconds.ToString("0.0", CultureInfo.InvariantCulture));
        }
        console.Write(table);
    }
}
