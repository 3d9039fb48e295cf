using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Skein.Learning.Data;
using Skein.Learning.Training;
using Skein.Simulation;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>What demo and simulate share: get the data, check the options, run with live progress, report.</summary>
public static class SimulationSession
{
    public static async Task<int> RunAsync(ParseResult parse, SimulationCliOptions simOptions, DataOptions dataOptions, OutputOptions output,
        string title, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(simOptions);
        ArgumentNullException.ThrowIfNull(dataOptions);
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        var json = parse.GetValue(output.Json);
        var summaryPath = parse.GetValue(output.Summary);

        SimulationOptions options;
        try
        {
            options = simOptions.Bind(parse);
        }
        catch (ArgumentException ex)
        {
            return Fail(stderr, ExitCodes.InvalidOptions, [ex.Message]);
        }
        // Rules that need no data are checked before any download, so a typo fails in milliseconds.
        var early = options.Validate(int.MaxValue).ToList();
        if (SimulationRunner.StrategyError(options.Strategy, options) is { } strategyError)
        {
            early.Add(strategyError);
        }
        if (early.Count > 0)
        {
            return Fail(stderr, ExitCodes.InvalidOptions, early);
        }
        if (summaryPath is not null && Path.GetDirectoryName(Path.GetFullPath(summaryPath)) is { } dir && !Directory.Exists(dir))
        {
            return Fail(stderr, ExitCodes.InvalidOptions, [$"--summary: folder '{dir}' does not exist"]);
        }

        if (await dataOptions.LoadAsync(parse, cancellationToken) is not { } data)
        {
            return ExitCodes.DataUnavailable;
        }

        var late = options.Validate(data.Train.Count);
        if (late.Count > 0)
        {
            return Fail(stderr, ExitCodes.InvalidOptions, late);
        }

        // Human output goes to stdout; with --json, stdout carries only the JSON object and progress goes to stderr.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(json ? stderr : stdout) });
        if (!console.Profile.Capabilities.Interactive)
        {
            // A log file or a pipe has no width; 80 columns would wrap the tables.
            console.Profile.Width = 132;
        }
        SimulationReport report;
        try
        {
            using var runner = new SimulationRunner(data.Train, data.Test, options);
            var view = new SimulationView(console, title, options);
            await view.RunAsync(runner, cancellationToken);
            report = runner.BuildReport(clock.Elapsed.TotalSeconds);
        }
        catch (TorchUnavailableException ex)
        {
            return Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
        }
        catch (ArgumentException ex)
        {
            // Strategy parameters are checked when the runner builds the strategy.
            return Fail(stderr, ExitCodes.InvalidOptions, [ex.Message]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("skein: cancelled");
            return ExitCodes.Cancelled;
        }

        var summary = RunSummary.From(report);
        var text = summary.ToJson();
        if (summaryPath is not null)
        {
            await File.WriteAllTextAsync(summaryPath, text + "\n", cancellationToken);
        }
        if (json)
        {
            await stdout.WriteLineAsync(text);
        }
        else
        {
            SimulationView.RenderSummary(console, report, summaryPath);
        }
        return ExitCodes.Ok;
    }

    /// <summary>A command that runs the simulation with every runner option, defaulting to <paramref name="defaults"/>.</summary>
    public static Command BuildCommand(string name, string description, SimulationOptions defaults, string title)
    {
        var command = new Command(name, description);
        var sim = new SimulationCliOptions(defaults);
        var data = new DataOptions();
        var output = new OutputOptions();
        sim.AddTo(command);
        data.AddTo(command);
        output.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(parse, sim, data, output, title, ct));
        return command;
    }

    public static int Fail(TextWriter stderr, int code, IEnumerable<string> errors)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(errors);
        foreach (var e in errors)
        {
            stderr.WriteLine($"skein: error: {e}");
        }
        return code;
    }
}

/// <summary>The options that say how a command reports: --json and --summary FILE.</summary>
public sealed class OutputOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Print exactly one JSON object on stdout (progress goes to stderr)" };

    public Option<string?> Summary { get; } = new("--summary") { Description = "Also write the JSON summary to this file", HelpName = "file" };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Json);
        command.Add(Summary);
    }
}
