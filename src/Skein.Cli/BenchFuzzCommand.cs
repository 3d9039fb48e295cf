using System.CommandLine;
using System.Globalization;
using Skein.Fuzz;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>
/// `skein bench fuzz`: runs the fuzz targets (every parser that takes bytes from strangers) for a bounded number of
/// inputs or time each, one after the other, and fails when any input crashed or hung a target (docs/reliability.md).
/// </summary>
public static class BenchFuzzCommand
{
    private static readonly string[] Headers = ["target", "inputs", "accepted", "refused", "crashes", "hangs", "inputs/s", "seconds"];

    public static Command Build()
    {
        var command = new Command("fuzz", "Fuzz every parser that takes bytes from strangers; exits non-zero on a crash or a hang (docs/reliability.md)");
        var target = new Option<string>("--target") { Description = $"A target or all: {string.Join(", ", FuzzTargets.Names)}", DefaultValueFactory = _ => "all" };
        var inputs = new Option<long>("--inputs") { Description = "Inputs per target", DefaultValueFactory = _ => 1_000_000 };
        var seconds = new Option<double>("--seconds") { Description = "Seconds per target, whichever bound comes first", DefaultValueFactory = _ => 600 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the inputs (the same seed makes the same inputs)", DefaultValueFactory = _ => 1 };
        var hang = new Option<double>("--hang-seconds") { Description = "An input running longer than this is a hang", DefaultValueFactory = _ => 2 };
        var output = new Option<string>("--findings-dir") { Description = "Folder the crashing and hanging inputs are written to", DefaultValueFactory = _ => "fuzz-findings" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { target, inputs, seconds, seed, hang, output, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var name = parse.GetValue(target)!;
            var errors = new List<string>();
            if (name != "all" && !FuzzTargets.Names.Contains(name))
            {
                errors.Add($"--target: '{name}' is not one of all, {string.Join(", ", FuzzTargets.Names)}");
            }
            if (parse.GetValue(inputs) < 1)
            {
                errors.Add($"--inputs: must be >= 1, got {parse.GetValue(inputs)}");
            }
            if (!(parse.GetValue(seconds) > 0))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"--seconds: must be > 0, got {parse.GetValue(seconds)}"));
            }
            if (!(parse.GetValue(hang) > 0))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"--hang-seconds: must be > 0, got {parse.GetValue(hang)}"));
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            var options = new FuzzOptions
            {
                MaxInputs = parse.GetValue(inputs),
                MaxTime = TimeSpan.FromSeconds(parse.GetValue(seconds)),
                Seed = parse.GetValue(seed),
                HangAfter = TimeSpan.FromSeconds(parse.GetValue(hang)),
                FindingsDirectory = Path.GetFullPath(parse.GetValue(output)!),
            };
            var reports = new List<FuzzReport>();
            foreach (var n in name == "all" ? FuzzTargets.Names : [name])
            {
                ct.ThrowIfCancellationRequested();
                await stderr.WriteLineAsync($"fuzzing {n} ...");
                using var t = FuzzTargets.Create(n);
                var report = FuzzRunner.Run(t, options);
                reports.Add(report);
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {report.Inputs:N0} inputs in {report.Seconds:0.0} s ({report.InputsPerSecond:N0}/s): {report.Accepted:N0} accepted, {report.Refused:N0} refused, {report.Crashes} crashes, {report.Hangs} hangs"));
                foreach (var f in report.Findings)
                {
                    await stderr.WriteLineAsync($"  {f.Kind} at input {f.Index}: {f.Exception} {f.Message} ({f.Where}){(f.SavedTo is null ? "" : " -> " + f.SavedTo)}");
                }
            }
            var clean = reports.All(r => r.Clean);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(new
                {
                    seed = options.Seed,
                    hang_seconds = options.HangAfter.TotalSeconds,
                    clean,
                    targets = reports.Select(r => new
                    {
                        target = r.Target,
                        inputs = r.Inputs,
                        accepted = r.Accepted,
                        refused = r.Refused,
                        crashes = r.Crashes,
                        hangs = r.Hangs,
                        seconds = r.Seconds,
                        inputs_per_second = Math.Round(r.InputsPerSecond, 1),
                        findings = r.Findings.Select(f => new { kind = f.Kind, index = f.Index, exception = f.Exception, message = f.Message, where = f.Where, saved_to = f.SavedTo, input_base64 = f.InputBase64, input_hex_prefix = f.InputHexPrefix }),
                    }),
                }));
            }
            else
            {
                var table = new Table().Border(TableBorder.Rounded).Title("[bold]Fuzzing[/]");
                foreach (var h in Headers)
                {
                    table.AddColumn(h == "target" ? new TableColumn(h) : new TableColumn(h).RightAligned());
                }
                foreach (var r in reports)
                {
                    table.AddRow(r.Target, r.Inputs.ToString("N0", CultureInfo.InvariantCulture), r.Accepted.ToString("N0", CultureInfo.InvariantCulture),
                        r.Refused.ToString("N0", CultureInfo.InvariantCulture), r.Crashes == 0 ? "0" : $"[red]{r.Crashes}[/]", r.Hangs == 0 ? "0" : $"[red]{r.Hangs}[/]",
                        r.InputsPerSecond.ToString("N0", CultureInfo.InvariantCulture), r.Seconds.ToString("0.0", CultureInfo.InvariantCulture));
                }
                AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) }).Write(table);
            }
            return clean ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }
}
