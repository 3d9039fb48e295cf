using System.Globalization;
using Skein.Learning.Models;
using Skein.Simulation;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>Live progress of a simulation run and its final tables, drawn with Spectre.Console.</summary>
public sealed class SimulationView(IAnsiConsole console, string title, SimulationOptions options)
{
    public async Task RunAsync(SimulationRunner runner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runner);
        console.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
        console.MarkupLine(Markup.Escape(Describe(options)));

        await RoundProgress.ShowAsync(console, runner.RunAsync(cancellationToken), options.Rounds, "round 0", r => r.Round, RoundLine);
    }

    public static string Describe(SimulationOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return string.Create(CultureInfo.InvariantCulture,
            $"model {o.Model.ToName()}, {o.Partition.ToString().ToLowerInvariant()} partition, K={o.Clients}, C={o.Fraction} ({o.ClientsPerRound}/round), E={o.LocalEpochs}, B={o.BatchSize}, lr={o.LearningRate}{(o.LearningRateDecay < 1 ? $" (x{o.LearningRateDecay}/round)" : "")}, R={o.Rounds}, seed {o.Seed}, {o.Parallelism} in parallel, strategy {o.Strategy.Name}{(o.Attack is null ? "" : ", attack: " + o.Attack)}{(o.EvaluateEvery > 1 ? $", tested every {o.EvaluateEvery} rounds" : "")}");
    }

    private static string RoundLine(RoundReport r) => string.Create(CultureInfo.InvariantCulture,
        $"round {r.Round,3}  {(r.Evaluated ? $"accuracy {r.Accuracy:0.0000}  loss {r.Loss:0.0000}" : "(not tested)")}  {r.Seconds,5:0.0} s{(r.MaliciousClients > 0 ? $"  {r.MaliciousClients} malicious" : "")}{(r.Epsilon is { } e ? $"  epsilon {e:0.00}" : "")}{(r.RefusedUpdates > 0 ? $"  {r.RefusedUpdates} refused (not finite)" : "")}{(r.AggregationError is null ? "" : "  aggregation refused: " + r.AggregationError)}");

    public static void RenderSummary(IAnsiConsole console, SimulationReport report, string? summaryPath)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var rounds = report.Rounds;
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Rounds[/]");
        table.AddColumn(new TableColumn("round").RightAligned());
        table.AddColumn(new TableColumn("accuracy").RightAligned());
        table.AddColumn(new TableColumn("loss").RightAligned());
        table.AddColumn(new TableColumn("train loss").RightAligned());
        table.AddColumn(new TableColumn("clients").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        var shown = Subsample(rounds.Where(r => r.Evaluated).ToArray(), 20).ToArray();
        // The bar spans from the lowest accuracy shown to 1, so the last points of a climb stay distinguishable.
        var low = shown.Length == 0 ? 0 : Math.Floor(shown.Min(r => r.Accuracy) * 20) / 20;
        table.AddColumn($"{low.ToString("0.00", CultureInfo.InvariantCulture)} .. 1.00");
        foreach (var r in shown)
        {
            table.AddRow(
                r.Round.ToString(CultureInfo.InvariantCulture),
                r.Accuracy.ToString("0.0000", CultureInfo.InvariantCulture),
                r.Loss.ToString("0.0000", CultureInfo.InvariantCulture),
                r.TrainLoss.ToString("0.0000", CultureInfo.InvariantCulture),
                r.ClientsTrained.ToString(CultureInfo.InvariantCulture),
                r.Seconds.ToString("0.0", CultureInfo.InvariantCulture),
                Bar((r.Accuracy - low) / Math.Max(1e-9, 1 - low)));
        }
        console.Write(table);

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]final accuracy[/]", report.FinalAccuracy.ToString("0.0000", CultureInfo.InvariantCulture));
        grid.AddRow("final loss", report.FinalLoss.ToString("0.0000", CultureInfo.InvariantCulture));
        if (report.DivergedRound is { } diverged)
        {
            grid.AddRow("[yellow]diverged[/]", $"the global loss stopped being finite at round {diverged.ToString(CultureInfo.InvariantCulture)} (null in --json)");
        }
        if (report.Options.TargetAccuracy is { } target)
        {
            grid.AddRow($"first round at {target.ToString("0.####", CultureInfo.InvariantCulture)}", report.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "not reached");
        }
        grid.AddRow("wall time", report.WallSeconds.ToString("0.0 's'", CultureInfo.InvariantCulture));
        grid.AddRow("training throughput", report.TrainSamplesPerSecond.ToString("#,0 'samples/s'", CultureInfo.InvariantCulture));
        grid.AddRow("rounds: training / tests / overhead", string.Create(CultureInfo.InvariantCulture,
            $"{report.TrainingSeconds:0.00} s / {report.EvaluationSeconds:0.00} s / {report.OverheadSeconds:0.00} s (overhead {report.OverheadFraction:P1} of the untested time)"));
        grid.AddRow("peak memory", (report.PeakMemoryBytes / (1024.0 * 1024.0)).ToString("#,0 'MiB'", CultureInfo.InvariantCulture));
        grid.AddRow("model sha256", report.FinalModelSha256[..16] + "… (full hash in --json)");
        if (summaryPath is not null)
        {
            grid.AddRow("summary", Markup.Escape(summaryPath));
        }
        console.Write(new Panel(grid).Header("Result").Border(BoxBorder.Rounded));
    }

    /// <summary>At most <paramref name="max"/> rounds, evenly spaced, always including the first and the last.</summary>
    private static IEnumerable<RoundReport> Subsample(RoundReport[] rounds, int max)
    {
        if (rounds.Length <= max)
        {
            return rounds;
        }
        var picked = new SortedSet<int>();
        for (var i = 0; i < max; i++)
        {
            picked.Add((int)Math.Round(i * (rounds.Length - 1) / (double)(max - 1)));
        }
        return picked.Select(i => rounds[i]);
    }

    private static string Bar(double fraction)
    {
        const int width = 12;
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return "[green]" + new string('█', filled) + "[/][grey]" + new string('·', width - filled) + "[/]";
    }
}

/// <summary>
/// Live progress over a stream of rounds: a redrawn bar on a terminal, one plain line per round when the output
/// is redirected (CI, a pipe, a log file).
/// </summary>
public static class RoundProgress
{
    public static async Task ShowAsync<T>(IAnsiConsole console, IAsyncEnumerable<T> rounds, double total, string waiting, Func<T, int> roundOf, Func<T, string> line)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(rounds);
        ArgumentNullException.ThrowIfNull(roundOf);
        ArgumentNullException.ThrowIfNull(line);
        if (!console.Profile.Capabilities.Interactive)
        {
            await foreach (var r in rounds)
            {
                console.WriteLine(line(r));
            }
            return;
        }
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask(waiting, maxValue: total);
                await foreach (var r in rounds)
                {
                    bar.Description = Markup.Escape(line(r));
                    bar.Value = roundOf(r);
                }
                bar.Value = bar.MaxValue;
            });
    }
}
