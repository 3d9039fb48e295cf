using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Skein.Cli.Network;
using Skein.Learning.Data;
using Skein.Learning.Training;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>The JSON summary of <c>skein demo</c> (--json, --summary FILE). Field names are a public contract: add fields, never rename them.</summary>
public sealed record DemoSummary(
    string Mode,
    string Model,
    string Partition,
    string Strategy,
    string Score,
    int Trainers,
    int Validators,
    string MaliciousBehaviour,
    ulong Seed,
    IReadOnlyList<NetworkRoundReport> Rounds,
    double FinalAccuracy,
    double FinalLoss,
    double Target,
    int? TargetRound,
    double WallSeconds,
    double SecondsPerRound,
    string ModelSha256,
    IReadOnlyList<DemoLeaderboardEntry> Leaderboard,
    string Verify,
    int VerifiedRounds,
    string? WorkDir,
    DemoMarket? Market = null,
    string? ConsoleUrl = null)
{
    /// <summary>Where the ledger lived: "embedded" or "evm".</summary>
    public string Ledger { get; init; } = "embedded";

    /// <summary>With --ledger evm: the chain and its contracts.</summary>
    public DemoChain? Chain { get; init; }

    /// <summary>With --ledger evm: gas of a round's transactions on the chain (all of them, submissions to settlement).</summary>
    public DemoGas? Gas { get; init; }
}

/// <summary>The EVM chain a demo ran its ledger on.</summary>
public sealed record DemoChain(ulong ChainId, string Node, string Rpc, string Contract, string TasksContract, string MarketContract, string GovernanceContract);

/// <summary>Gas per settled round of the demo's task, as the chain's receipts add it up.</summary>
public sealed record DemoGas(ulong PerRoundMedian, ulong PerRoundMax, ulong PerRoundMin, ulong Total, int Rounds, double TransactionsPerRound);

/// <summary>`skein demo`: a whole Skein network on loopback, one process per party, training MNIST to 97%.</summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var command = new Command("demo", "Run a whole network on this machine: a coordinator, 3 compute providers, and 10 trainers (one malicious) and 3 validators rented from them through the market, training MNIST");
        var defaults = new NetworkDemoOptions();
        var trainers = new Option<int>("--trainers") { Description = "Trainer nodes (the last one sends sign-flipped updates)", DefaultValueFactory = _ => defaults.Trainers };
        var validators = new Option<int>("--validators") { Description = "Validator nodes", DefaultValueFactory = _ => defaults.Validators };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of the task", DefaultValueFactory = _ => (int)defaults.Rounds };
        var target = new Option<double>("--target") { Description = "Test accuracy to report the first round of", DefaultValueFactory = _ => defaults.TargetAccuracy };
        var seed = new Option<ulong>("--seed") { Description = "Seed for the data split, the keys and the initial model", DefaultValueFactory = _ => defaults.Seed };
        var work = new Option<string?>("--work-dir") { Description = "Keep the network's folders (keys, ledger, blobs, logs) here instead of a temporary folder", HelpName = "folder" };
        var direct = new Option<bool>("--no-market") { Description = "Start the nodes directly instead of renting them from the local providers (the baseline the market's cost is measured against)" };
        var hold = new Option<bool>("--hold") { Description = "Keep the network and the console up after the last round, until Ctrl+C" };
        var ledger = new Option<string>("--ledger") { Description = "Where the ledger lives: embedded (the default), or evm (Skein's contracts on a local Anvil chain; the nodes are then started directly, as the market is not on the contracts yet)", DefaultValueFactory = _ => "embedded" };
        var consolePort = new Option<int>("--console-port") { Description = $"Port of the web console (0: any free port; -1: no console)", DefaultValueFactory = _ => ConsoleCommand.DefaultPort };
        var data = new DataOptions();
        var output = new OutputOptions();
        foreach (var o in new Option[] { trainers, validators, rounds, target, seed, work, direct, ledger, hold, consolePort })
        {
            command.Add(o);
        }
        data.AddTo(command);
        output.AddTo(command);
        command.Add(DemoTextCommand.Build());
        command.Add(DemoTournamentCommand.Build());
        command.SetAction((parse, ct) => RunAsync(parse, new NetworkDemoOptions
        {
            Trainers = parse.GetValue(trainers),
            Validators = parse.GetValue(validators),
            Rounds = (uint)Math.Max(0, parse.GetValue(rounds)),
            TargetAccuracy = parse.GetValue(target),
            Seed = parse.GetValue(seed),
            WorkDirectory = parse.GetValue(work),
            Keep = parse.GetValue(work) is not null,
            RentThroughMarket = !parse.GetValue(direct),
            Ledger = parse.GetValue(ledger)!,
        }, parse.GetValue(rounds), new DemoConsole(parse.GetValue(consolePort), parse.GetValue(hold)), data, output, ct));
        return command;
    }

    /// <summary>Where the demo serves its console (-1: none) and whether it stays up after the last round.</summary>
    private sealed record DemoConsole(int Port, bool Hold);

    private static async Task<int> RunAsync(ParseResult parse, NetworkDemoOptions options, int roundsAsGiven, DemoConsole web, DataOptions data, OutputOptions output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        var json = parse.GetValue(output.Json);
        var summaryPath = parse.GetValue(output.Summary);
        var errors = options.Validate().ToList();
        if (roundsAsGiven < 1)
        {
            errors.RemoveAll(e => e.StartsWith("--rounds", StringComparison.Ordinal));
            errors.Add($"--rounds must be between 1 and 10000, got {roundsAsGiven}");
        }
        if (summaryPath is not null && Path.GetDirectoryName(Path.GetFullPath(summaryPath)) is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"--summary: folder '{dir}' does not exist");
        }
        if (web.Port is < -1 or > 65535)
        {
            errors.Add($"--console-port: must be -1 (no console), 0 (any free port) or a port up to 65535, got {web.Port}");
        }
        if (errors.Count > 0)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
        }

        MnistFiles files;
        using (var loggers = CliLogging.Create())
        {
            try
            {
                // Checked against the pinned SHA-256 here; the demo process itself never trains or tests a model.
                files = await data.ResolveAsync(parse, loggers.CreateLogger("skein"), ct);
            }
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or IdxFormatException)
            {
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(json ? stderr : stdout) });
        if (!console.Profile.Capabilities.Interactive)
        {
            console.Profile.Width = 132;
        }
        console.MarkupLine("[bold]Skein demo: a federated network on this machine[/]");
        if (options.Ledger == "evm")
        {
            console.WriteLine("ledger: Skein's contracts on a local Anvil chain (tokens, stakes, tasks, rounds and the compute market)");
        }
        console.WriteLine($"model 2nn, pathological shards (2 label-sorted shards per trainer), {options.Trainers} trainers (1 malicious: sign-flipped x4), {options.Validators} validators, {options.Rounds} rounds, strategy fedavgm, cohort scores");

        var reports = new List<NetworkRoundReport>();
        try
        {
            await using var demo = new NetworkDemo(options, files, new ConsoleLog(console));
            using var loggers = CliLogging.Create();
            Skein.Console.Hosting.ConsoleHost? site = null;
            demo.CoordinatorStarted = async (api, token) =>
            {
                if (web.Port < 0)
                {
                    return;
                }
                var labels = demo.Names.ToDictionary(kv => kv.Key, kv => kv.Value == demo.MaliciousName ? kv.Value + " (malicious)" : kv.Value, StringComparer.OrdinalIgnoreCase);
                site = await StartConsoleAsync(api, web.Port, labels, loggers, token);
                console.MarkupLine($"[bold]console[/] {Markup.Escape(site.Uri.ToString())}  (open it to watch the run live{(web.Hold ? "; it stays up after the last round" : "; --hold keeps it up after the last round")})");
            };
            await using var siteOwner = new AsyncDisposer(() => site);
            await demo.StartAsync(ct);
            // Each round is verified as soon as it settles, while the network trains the next ones.
            var verifications = System.Threading.Channels.Channel.CreateUnbounded<uint>();
            var verifier = Task.Run(async () =>
            {
                var done = new List<Coordinator.Api.RoundVerification>();
                await foreach (var r in verifications.Reader.ReadAllAsync(ct))
                {
                    done.Add(await demo.VerifyRoundAsync(r, ct));
                }
                return (IReadOnlyList<Coordinator.Api.RoundVerification>)done;
            }, ct);
            await FollowAsync(console, demo, options, reports, r => verifications.Writer.TryWrite((uint)r), ct);
            verifications.Writer.Complete();
            console.WriteLine($"verified {options.Rounds} rounds from the published models and updates as they settled; finishing ...");
            var checks = await verifier;
            var board = await demo.LeaderboardAsync(ct);
            var market = await demo.SettleMarketAsync(ct);
            var keptWork = options.Keep ? demo.WorkDirectory : null;

            var last = reports[^1];
            var ok = checks.Count > 0 && checks.All(c => c.Ok);
            var wall = clock.Elapsed.TotalSeconds;
            var summary = new DemoSummary("network", "2nn", "shards", "fedavgm", "cohort", options.Trainers, options.Validators, "sign_flip", options.Seed, reports,
                Math.Round(last.Accuracy, 6), Math.Round(last.Loss, 6), options.TargetAccuracy, reports.FirstOrDefault(r => r.Accuracy >= options.TargetAccuracy)?.Round,
                Math.Round(wall, 3), Math.Round(reports.Average(r => r.Seconds), 3), last.ModelSha256, board, ok ? "ok" : "failed", checks.Count(c => c.Ok), keptWork, market,
                site?.Uri.ToString())
            {
                Ledger = options.Ledger,
                Chain = demo.Chain,
                Gas = await demo.GasAsync(ct),
            };
            var text = NetworkDemo.SummaryJson(summary);
            if (summaryPath is not null)
            {
                await File.WriteAllTextAsync(summaryPath, text + "\n", ct);
            }
            Render(console, summary, checks, summaryPath);
            if (json)
            {
                await stdout.WriteLineAsync(text);
                await stdout.FlushAsync(ct);
            }
            if (web.Hold)
            {
                console.MarkupLine(site is null
                    ? "holding: the network stays up until Ctrl+C"
                    : $"holding: the network and the console ({Markup.Escape(site.Uri.ToString())}) stay up until Ctrl+C");
                await HoldAsync(ct);
            }
            return ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        }
        catch (TorchUnavailableException ex)
        {
            return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("skein: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException)
        {
            return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [$"the network failed: {ex.Message}"]);
        }
    }

    /// <summary>Disposes what a callback may have created, once the scope ends (the console is started from inside the demo's start).</summary>
    private sealed class AsyncDisposer(Func<IAsyncDisposable?> target) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => target() is { } t ? t.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Until Ctrl+C, which here is the normal way out and not a failure.</summary>
    private static async Task HoldAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The console on the asked port, or on any free one when that port is taken (a second demo, another service).</summary>
    private static async Task<Skein.Console.Hosting.ConsoleHost> StartConsoleAsync(Uri api, int port, IReadOnlyDictionary<string, string> labels, ILoggerFactory loggers, CancellationToken ct)
    {
        var options = new Skein.Console.ConsoleOptions { Coordinator = api, Port = port, ReadOnly = true, Labels = labels };
        try
        {
            return await Skein.Console.Hosting.ConsoleHost.StartAsync(options, null, loggers, ct);
        }
        catch (IOException) when (port != 0)
        {
            return await Skein.Console.Hosting.ConsoleHost.StartAsync(options with { Port = 0 }, null, loggers, ct);
        }
    }

    private static async Task FollowAsync(IAnsiConsole console, NetworkDemo demo, NetworkDemoOptions options, List<NetworkRoundReport> reports,
        Action<int> settled, CancellationToken ct)
    {
        async IAsyncEnumerable<NetworkRoundReport> Recorded()
        {
            await foreach (var r in demo.FollowAsync(ct))
            {
                reports.Add(r);
                settled(r.Round);
                yield return r;
            }
        }
        await RoundProgress.ShowAsync(console, Recorded(), options.Rounds, "waiting for the nodes to join", r => r.Round, Line);
    }

    private static string Line(NetworkRoundReport r) => string.Create(CultureInfo.InvariantCulture,
        $"round {r.Round,3}  accuracy {r.Accuracy:0.0000}  accepted {r.Accepted}  rejected {r.Rejected}  revealed {r.Revealed}  {r.Seconds,5:0.0} s");

    private static void Render(IAnsiConsole console, DemoSummary s, IReadOnlyList<Coordinator.Api.RoundVerification> checks, string? summaryPath)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Leaderboard[/] (from the ledger)");
        foreach (var column in new[] { "node", "role", "accepted", "rejected", "revealed", "missed", "rewards", "slashed" })
        {
            table.AddColumn(column is "node" or "role" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        }
        foreach (var e in s.Leaderboard)
        {
            var name = e.Malicious ? $"[red]{Markup.Escape(e.Name)} (malicious)[/]" : Markup.Escape(e.Name);
            var trainer = e.Role == "trainer";
            table.AddRow(name, e.Role, trainer ? N(e.Accepted) : "", trainer ? N(e.Rejected) : "", trainer ? "" : N(e.Revealed), trainer ? "" : N(e.Missed), Short(e.Rewards), Short(e.Slashed));
        }
        console.Write(table);
        if (s.Market is { } m)
        {
            var leases = new Table().Border(TableBorder.Rounded).Title($"[bold]Market[/] (leases paid per {m.BlockIntervalMs / 1000.0:0.#} s block, in {m.Denom})");
            foreach (var column in new[] { "provider", "region", "price/core", "leases", "earned", "nodes" })
            {
                leases.AddColumn(column is "provider" or "region" or "nodes" ? new TableColumn(column) : new TableColumn(column).RightAligned());
            }
            foreach (var p in m.Providers)
            {
                leases.AddRow(Markup.Escape(p.Name) + (p.Audited ? " (audited)" : ""), p.Region, p.PricePerCore.ToString(CultureInfo.InvariantCulture), N(p.Leases), p.Earned,
                    Markup.Escape(string.Join(", ", m.Leases.Where(l => l.Provider == p.Name).Select(l => l.Node))));
            }
            console.Write(leases);
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"nodes deployed through the market: median {m.DeployP50Seconds:0.0} s, slowest {m.DeployMaxSeconds:0.0} s from deployment to running; supply {(m.SupplyConserved ? "[green]conserved[/]" : "[red]NOT conserved[/]")}"));
        }
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]final accuracy[/]", s.FinalAccuracy.ToString("0.0000", CultureInfo.InvariantCulture));
        grid.AddRow($"first round at {s.Target.ToString("0.####", CultureInfo.InvariantCulture)}", s.TargetRound?.ToString(CultureInfo.InvariantCulture) ?? "not reached");
        grid.AddRow("verify", s.Verify == "ok"
            ? $"[green]ok[/]: all {s.VerifiedRounds} rounds recomputed bit for bit"
            : $"[red]failed[/]: {string.Join("; ", checks.Where(c => !c.Ok).Take(3).Select(c => $"round {c.Round}: {c.Reason}"))}");
        if (s.Chain is { } chain && s.Gas is { } gas)
        {
            grid.AddRow("ledger", Markup.Escape($"EVM chain {chain.ChainId} ({chain.Node}), SkeinLedger {chain.Contract}"));
            grid.AddRow("gas per round", string.Create(CultureInfo.InvariantCulture, $"median {gas.PerRoundMedian:N0}, max {gas.PerRoundMax:N0} ({gas.TransactionsPerRound:0.#} transactions a round)"));
        }
        grid.AddRow("wall time", s.WallSeconds.ToString("0.0 's'", CultureInfo.InvariantCulture) + s.SecondsPerRound.ToString(" (0.0 's per round)'", CultureInfo.InvariantCulture));
        grid.AddRow("model sha256", s.ModelSha256[..16] + "…");
        if (s.WorkDir is not null)
        {
            grid.AddRow("network folder", Markup.Escape(s.WorkDir));
        }
        if (summaryPath is not null)
        {
            grid.AddRow("summary", Markup.Escape(summaryPath));
        }
        console.Write(new Panel(grid).Header("Result").Border(BoxBorder.Rounded));
    }

    /// <summary>A token amount to four decimals for the table (the JSON keeps every digit).</summary>
    private static string Short(string tokens) =>
        decimal.TryParse(tokens, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? Math.Round(d, 4).ToString("0.####", CultureInfo.InvariantCulture) : tokens;

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Lines from the network's setup, onto the console.</summary>
    internal sealed class ConsoleLog(IAnsiConsole console) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void WriteLine(string? value) => console.WriteLine(value ?? "");
    }
}
