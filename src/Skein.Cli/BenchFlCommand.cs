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
    string ModelSha256,
    string Status = FlRunStatus.Ok,
    int? DivergedRound = null,
    string? Error = null);

/// <summary>
/// How a `skein bench fl` run ended: <c>ok</c>; <c>diverged</c> (it finished, but its global loss stopped being a
/// finite number at <c>diverged_round</c>: a result, not an error); <c>failed</c> (it stopped, <c>error</c> says
/// why, and the exit code is <see cref="ExitCodes.RunFailed"/>); <c>cancelled</c>.
/// </summary>
public static class FlRunStatus
{
    public const string Ok = "ok";
    public const string Diverged = "diverged";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>The `skein bench fl` document for a scenario matrix: every run, finished or not, in matrix order.</summary>
public sealed record FlMatrixSummary(string Name, IReadOnlyList<FlRunResult> Runs)
{
    public int FailedRuns => Runs.Count(r => r.Status == FlRunStatus.Failed);

    public int DivergedRuns => Runs.Count(r => r.Status == FlRunStatus.Diverged);
}

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
            IReadOnlyList<FlRunResult> results;
            try
            {
                results = await RunAllAsync(runs, async (run, token) =>
                {
                    var clock = Stopwatch.StartNew();
                    using var runner = new SimulationRunner(dataset.Train, dataset.Test, run);
                    var title = $"{scenario.Name}: {run.Strategy.Name}{(run.Attack is null ? ", no attack" : ", " + run.Attack)}";
                    await new SimulationView(console, title, run).RunAsync(runner, token);
                    var report = runner.BuildReport(clock.Elapsed.TotalSeconds);
                    console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"  final accuracy {report.FinalAccuracy:0.0000}, target round {report.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "not reached"}, {report.WallSeconds:0.0} s{(report.DivergedRound is { } d ? $", diverged at round {d}" : "")}")));
                    return ToResult(scenario, run, report);
                }, (run, status, error) => Unfinished(scenario, run, status, error), stderr, ct);
            }
            catch (TorchUnavailableException ex)
            {
                // Nothing can train on this machine: no run started, so there is nothing to keep.
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }

            var text = scenario.Matrix is null ? JsonOutput.Serialize(results[0]) : JsonOutput.Serialize(new FlMatrixSummary(scenario.Name, results));
            if (summaryPath is not null)
            {
                await File.WriteAllTextAsync(summaryPath, text + "\n", CancellationToken.None);
            }
            if (json)
            {
                await stdout.WriteLineAsync(text);
            }
            else
            {
                RenderResults(console, results, scenario.Matrix is not null);
            }
            if (results.Any(r => r.Status == FlRunStatus.Cancelled))
            {
                return ExitCodes.Cancelled;
            }
            if (results.FirstOrDefault(r => r.Status == FlRunStatus.Failed) is { } failed)
            {
                await stderr.WriteLineAsync($"skein: error: {results.Count(r => r.Status == FlRunStatus.Failed)} of {results.Count} run(s) failed; first: {failed.Strategy}, {failed.Attack ?? "no attack"}: {failed.Error}");
                return ExitCodes.RunFailed;
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Runs every cell of a scenario in order and keeps each finished result whatever happens to a later one: a run
    /// that throws is recorded as failed with its reason and the next one starts; a cancellation records the run it
    /// interrupted (and those not started) as cancelled and stops. Only a missing libtorch is thrown on.
    /// </summary>
    public static async Task<IReadOnlyList<FlRunResult>> RunAllAsync(
        IReadOnlyList<SimulationOptions> runs,
        Func<SimulationOptions, CancellationToken, Task<FlRunResult>> runOne,
        Func<SimulationOptions, string, string, FlRunResult> unfinished,
        TextWriter log,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(runOne);
        ArgumentNullException.ThrowIfNull(unfinished);
        ArgumentNullException.ThrowIfNull(log);
        var results = new List<FlRunResult>(runs.Count);
        foreach (var run in runs)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                results.Add(unfinished(run, FlRunStatus.Cancelled, "not started: cancelled"));
                continue;
            }
            try
            {
                results.Add(await runOne(run, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                results.Add(unfinished(run, FlRunStatus.Cancelled, "cancelled while running"));
            }
            catch (TorchUnavailableException)
            {
                throw;
            }
            catch (Exception ex)
            {
                // A run that blows up (a native error, memory, a strategy that throws mid-run) must not take the
                // finished runs with it; its reason goes into the summary and the exit code says that one failed.
                var reason = $"{ex.GetType().Name}: {ex.Message}";
                await log.WriteLineAsync($"skein: run {results.Count + 1} of {runs.Count} ({run.Strategy.Name}, {run.Attack?.ToString() ?? "no attack"}) failed: {reason}");
                results.Add(unfinished(run, FlRunStatus.Failed, reason));
            }
        }
        return results;
    }

    private static FlRunResult Unfinished(FlBenchConfig scenario, SimulationOptions run, string status, string error) => new(
        scenario.Name,
        run.Model.ToName(),
        run.Partition.ToString().ToLowerInvariant(),
        run.Clients,
        run.Fraction,
        run.LocalEpochs,
        run.BatchSize,
        run.LearningRate,
        StrategyLabel(run),
        run.Attack?.ToString(),
        [],
        run.TargetAccuracy,
        null,
        scenario.PaperRounds,
        double.NaN,
        double.NaN,
        0,
        0,
        "",
        status,
        null,
        error);

    private static string StrategyLabel(SimulationOptions run) =>
        new StrategyConfig { Name = run.Strategy.Name, Params = run.Strategy.Parameters.ToDictionary() }.ToString();

    private static FlRunResult ToResult(FlBenchConfig scenario, SimulationOptions run, SimulationReport report) => new(
        scenario.Name,
        run.Model.ToName(),
        run.Partition.ToString().ToLowerInvariant(),
        run.Clients,
        run.Fraction,
        run.LocalEpochs,
        run.BatchSize,
        run.LearningRate,
        StrategyLabel(run),
        run.Attack?.ToString(),
        report.Rounds.Select(r => new FlRoundResult(r.Round, Math.Round(r.Accuracy, 6), Math.Round(r.Loss, 6), Math.Round(r.Seconds, 3), r.MaliciousClients, r.Epsilon is { } e ? Math.Round(e, 4) : null, r.RefusedUpdates, r.AggregationError)).ToArray(),
        run.TargetAccuracy,
        report.TargetRound,
        scenario.PaperRounds,
        Math.Round(report.FinalAccuracy, 6),
        Math.Round(report.Rounds.Count == 0 ? 0 : report.Rounds.Where(r => double.IsFinite(r.Accuracy)).Select(r => r.Accuracy).DefaultIfEmpty(double.NaN).Max(), 6),
        Math.Round(report.WallSeconds, 3),
        Math.Round(report.TrainSamplesPerSecond, 1),
        report.FinalModelSha256,
        report.DivergedRound is null ? FlRunStatus.Ok : FlRunStatus.Diverged,
        report.DivergedRound);

    private static void RenderResults(IAnsiConsole console, IReadOnlyList<FlRunResult> results, bool matrix)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(matrix ? "Scenario matrix" : "Scenario");
        foreach (var h in new[] { "strategy", "attack", "status", "final acc.", "best acc.", "target round", "paper", "seconds" })
        {
            table.AddColumn(h);
        }
        foreach (var r in results)
        {
            var status = r.Status switch
            {
                FlRunStatus.Diverged => $"[yellow]diverged at round {r.DivergedRound}[/]",
                FlRunStatus.Failed => $"[red]failed: {Markup.Escape(r.Error ?? "")}[/]",
                FlRunStatus.Cancelled => "cancelled",
                _ => "ok",
            };
            table.AddRow(Markup.Escape(r.Strategy), Markup.Escape(r.Attack ?? "none"), status,
                Number(r.FinalAccuracy, "0.0000"), Number(r.BestAccuracy, "0.0000"),
                r.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "-", r.PaperRounds?.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.WallSeconds.ToString("0.0", CultureInfo.InvariantCulture));
        }
        console.Write(table);
    }

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";
}
