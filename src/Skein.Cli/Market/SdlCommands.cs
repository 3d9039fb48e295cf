using System.CommandLine;
using Skein.Market.Sdl;
using Spectre.Console;

namespace Skein.Cli.Market;

/// <summary>`skein sdl validate|price`: check an Akash SDL as Akash would, and what it can cost.</summary>
public static class SdlCommands
{
    public static Command Build()
    {
        var sdl = new Command("sdl", "Akash SDL files: validate them as Akash does, and price their ceilings");
        sdl.Add(Validate());
        sdl.Add(Price());
        return sdl;
    }

    private static Command Validate()
    {
        var command = new Command("validate", "Validate an SDL (2.0 or 2.1); every error is printed as file: path: message. Exit 0 when valid, 2 when not");
        var file = new Argument<string>("file") { Description = "The SDL file (deploy.yaml)" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout (errors also go to stderr)" };
        command.Add(file);
        command.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var result = SdlDocument.Load(path);
            var stdout = parse.InvocationConfiguration.Output;
            await WriteErrorsAsync(parse.InvocationConfiguration.Error, result.Errors);
            var doc = result.Document;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(new
                {
                    file = path,
                    valid = result.Ok,
                    version = doc?.Version,
                    services = doc?.Services.Keys.ToArray() ?? [],
                    groups = doc?.ToGroups().Select(g => new
                    {
                        name = g.Name,
                        resources = g.Resources.Select(r => new
                        {
                            service = r.Service,
                            count = r.Count,
                            cpu_millis = r.Units.CpuMillis,
                            memory_bytes = r.Units.MemoryBytes,
                            storage = r.Units.Storage.Select(s => new { name = s.Name, bytes = s.Bytes, @class = s.Class, persistent = s.Persistent }),
                            gpu_units = r.Units.GpuUnits,
                            gpu_models = r.Units.GpuModels.Select(m => new { vendor = m.Vendor, model = m.Model, ram = m.Ram, @interface = m.Interface }),
                            price = new { denom = r.Price.Denom, amount = r.Price.Amount },
                        }),
                    }).ToArray() ?? [],
                    manifest_sha256 = doc is null ? null : Convert.ToHexStringLower(doc.ToManifest().Hash.Bytes),
                    errors = result.Errors.Select(e => new { path = e.Path, message = e.Message }),
                }));
            }
            else if (doc is not null)
            {
                var groups = doc.GroupNames;
                await stdout.WriteLineAsync(
                    $"{path}: valid SDL {doc.Version}: {doc.Services.Count} service(s) ({string.Join(", ", doc.Services.Keys)}), " +
                    $"{groups.Count} group(s) ({string.Join(", ", groups)}), manifest sha256 {Convert.ToHexStringLower(doc.ToManifest().Hash.Bytes)}");
            }
            return result.Ok ? ExitCodes.Ok : ExitCodes.InvalidOptions;
        });
        return command;
    }

    private static Command Price()
    {
        var command = new Command("price", "The most an SDL's deployment can cost: per block, hour and month, per group and in total");
        var file = new Argument<string>("file") { Description = "The SDL file (deploy.yaml)" };
        var blockSeconds = new Option<decimal>("--block-seconds")
        {
            Description = "Average seconds per block (default: Akash Console's 6.098)",
            DefaultValueFactory = _ => SdlPricing.DefaultBlockSeconds,
            HelpName = "seconds",
        };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        command.Add(file);
        command.Add(blockSeconds);
        command.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var seconds = parse.GetValue(blockSeconds);
            var stderr = parse.InvocationConfiguration.Error;
            if (seconds <= 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--block-seconds must be > 0, got {seconds}"]);
            }
            var result = SdlDocument.Load(path);
            if (!result.Ok)
            {
                await WriteErrorsAsync(stderr, result.Errors);
                return ExitCodes.InvalidOptions;
            }
            var report = SdlPricing.Compute(result.Document!, seconds);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(new
                {
                    file = path,
                    block_seconds = report.BlockSeconds,
                    groups = report.Groups.Select(Json).ToArray(),
                    total = Json(report.Total),
                }));
                return ExitCodes.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            if (!console.Profile.Capabilities.Interactive)
            {
                // A log file or a pipe has no width; 80 columns would wrap the table.
                console.Profile.Width = 132;
            }
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("group", "denom", "per block", "per hour", "per month", "USD / hour", "USD / month");
            foreach (var line in report.Groups.Append(report.Total))
            {
                table.AddRow(Markup.Escape(line.Name), line.Denom, Amount(line.PerBlock), Amount(decimal.Round(line.PerHour, 0)),
                    Amount(decimal.Round(line.PerMonth, 0)), line.UsdPerHour?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    line.UsdPerMonth?.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
            }
            console.MarkupLine($"Price ceilings of [bold]{Markup.Escape(path)}[/] at {report.BlockSeconds} s a block (the most the tenant pays; bids may be lower):");
            console.Write(table);
            if (report.Total.Denom == "uact")
            {
                console.MarkupLine("A month is 30.437 days, as Akash Console counts; 1 ACT = 1,000,000 uact, about one US dollar.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static object Json(SdlPriceLine line) => new
    {
        name = line.Name,
        denom = line.Denom,
        per_block = line.PerBlock,
        per_hour = line.PerHour,
        per_month = line.PerMonth,
        usd_per_hour = line.UsdPerHour,
        usd_per_month = line.UsdPerMonth,
    };

    private static string Amount(decimal value) => value.ToString("#,0.##################", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task WriteErrorsAsync(TextWriter stderr, IReadOnlyList<SdlError> errors)
    {
        foreach (var error in errors)
        {
            await stderr.WriteLineAsync(error.ToString());
        }
    }
}
