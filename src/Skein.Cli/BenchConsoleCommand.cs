using System.CommandLine;
using System.Globalization;
using Skein.Console.Bench;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein bench console`: server time of every console page over a long generated history (docs/benchmarks.md, "Console").</summary>
public static class BenchConsoleCommand
{
    /// <summary>The console's target: every page within this at the server, with a thousand rounds.</summary>
    private const double TargetMs = 200;

    public static Command Build()
    {
        var command = new Command("console", "Server time of every console page over a generated history (rounds, nodes, signed transactions on a real ledger), median and p95");
        var rounds = new Option<int>("--rounds") { Description = "Settled rounds of the generated task", DefaultValueFactory = _ => 1000 };
        var nodes = new Option<int>("--nodes") { Description = "Trainers and validators (a fifth validate)", DefaultValueFactory = _ => 100 };
        var requests = new Option<int>("--requests") { Description = "Timed requests per page, after a new block and warm each", DefaultValueFactory = _ => 30 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the history (the same seed gives the same chain)", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { rounds, nodes, requests, seed, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var options = new ConsoleBenchmarkOptions
            {
                Rounds = parse.GetValue(rounds),
                Nodes = parse.GetValue(nodes),
                Requests = parse.GetValue(requests),
                Seed = parse.GetValue(seed),
            };
            if (options.Validate() is { } error)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [error]);
            }
            var result = await ConsoleBenchmark.RunAsync(options, line => stderr.WriteLine(line), ct);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded).Title(string.Create(CultureInfo.InvariantCulture,
                $"[bold]Console[/]: {result.Rounds:N0} rounds, {result.Nodes} nodes, {result.Transactions:N0} transactions (generated in {result.GenerateSeconds:0.0} s)"));
            table.AddColumn("page");
            table.AddColumn(new TableColumn("p50 (new block)").RightAligned());
            table.AddColumn(new TableColumn("p95 (new block)").RightAligned());
            table.AddColumn(new TableColumn("warm p50").RightAligned());
            table.AddColumn(new TableColumn("bytes").RightAligned());
            foreach (var p in result.Pages)
            {
                table.AddRow(Markup.Escape(p.Page), Ms(p.P50Ms), Ms(p.P95Ms), Ms(p.WarmP50Ms), p.Bytes.ToString("N0", CultureInfo.InvariantCulture));
            }
            foreach (var s in result.Skipped)
            {
                table.AddRow(Markup.Escape(s), "not served", "", "", "");
            }
            table.Caption(string.Create(CultureInfo.InvariantCulture, $"target: every page under {TargetMs:0} ms at the server"));
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) }).Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Ms(double ms) => ms > TargetMs
        ? $"[red]{ms.ToString("0.0", CultureInfo.InvariantCulture)} ms[/]"
        : ms.ToString("0.0 'ms'", CultureInfo.InvariantCulture);
}
