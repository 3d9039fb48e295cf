using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Skein.Cli.Network.Chaos;
using Skein.Learning.Data;
using Skein.Learning.Training;

namespace Skein.Cli;

/// <summary>`skein bench chaos`: the networked demo under seeded kills and a fault-injecting proxy, then the checks that must survive it.</summary>
public static class BenchChaosCommand
{
    public static Command Build()
    {
        var command = new Command("chaos", "Run the networked demo while a seeded schedule SIGKILLs and restarts trainers, validators and the coordinator and a proxy delays, resets and cuts their connections; then check rounds, verify, supply, accepted updates and processes");
        var defaults = new ChaosBenchOptions();
        var minutes = new Option<double>("--minutes") { Description = "How long the faults go on", DefaultValueFactory = _ => defaults.Minutes };
        var seed = new Option<ulong>("--seed") { Description = "One seed for the kill schedule, the proxy's faults, the keys, the data split and the initial model", DefaultValueFactory = _ => defaults.Seed };
        var trainers = new Option<int>("--trainers") { Description = "Trainer nodes (the last one sends sign-flipped updates, as in the demo)", DefaultValueFactory = _ => defaults.Trainers };
        var validators = new Option<int>("--validators") { Description = "Validator nodes", DefaultValueFactory = _ => defaults.Validators };
        var synthetic = new Option<int>("--synthetic-data") { Description = "Synthetic MNIST-shaped images, this many per node, instead of MNIST (no download; for tests and smoke runs)", DefaultValueFactory = _ => 0 };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the run without faults that the accuracy is compared with" };
        var killEvery = new Option<string>("--kill-every") { Description = "Seconds between two kills: MIN:MAX, drawn uniformly", DefaultValueFactory = _ => "5:15" };
        var work = new Option<string?>("--work-dir") { Description = "Keep the networks' folders (keys, ledger, blobs, logs) here", HelpName = "folder" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout (progress goes to stderr)" };
        var data = new DataOptions();
        foreach (var o in new Option[] { minutes, seed, trainers, validators, synthetic, noBaseline, killEvery, work, json })
        {
            command.Add(o);
        }
        data.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var errors = new List<string>();
            var gaps = parse.GetValue(killEvery)!.Split(':');
            if (gaps.Length != 2 || !double.TryParse(gaps[0], CultureInfo.InvariantCulture, out var minGap) || !double.TryParse(gaps[1], CultureInfo.InvariantCulture, out var maxGap)
                || !(minGap > 0) || !(maxGap >= minGap))
            {
                errors.Add($"--kill-every must be MIN:MAX seconds with 0 < MIN <= MAX, got '{parse.GetValue(killEvery)}'");
                minGap = maxGap = 1;
            }
            var options = new ChaosBenchOptions
            {
                Minutes = parse.GetValue(minutes),
                Seed = parse.GetValue(seed),
                Trainers = parse.GetValue(trainers),
                Validators = parse.GetValue(validators),
                SyntheticExamples = parse.GetValue(synthetic),
                Baseline = !parse.GetValue(noBaseline),
                WorkDirectory = parse.GetValue(work) is { } w ? Path.GetFullPath(w) : null,
                Kills = defaults.Kills with { MinGap = TimeSpan.FromSeconds(minGap), MaxGap = TimeSpan.FromSeconds(maxGap) },
            };
            errors.AddRange(options.Validate());
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            {
                errors.Add("bench chaos: SIGKILL and the process checks need Linux or macOS");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            MnistFiles? files = null;
            if (options.SyntheticExamples == 0)
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
            var result = await new ChaosBench(options, files, stderr).RunAsync(ct);
            var text = JsonOutput.Serialize(result);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(text);
            }
            else
            {
                var c = result.Checks;
                await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"""
                    chaos, {result.Minutes} min, seed {result.Seed}: {result.RoundsFinalized} rounds finalized, {result.RoundsFailed.Count} failed
                    kills: {string.Join(", ", result.Kills.Select(k => $"{k.Key} {k.Value}"))}; proxy: {result.ProxyFaults.Connections} connections, {result.ProxyFaults.Resets} resets, {result.ProxyFaults.Cuts} cuts, {result.ProxyFaults.DelayedChunks} delayed chunks
                    verify {result.Verify} ({result.VerifiedRounds} rounds), ledger replay {result.LedgerReplay}, supply {(c.SupplyConserved ? "conserved" : "NOT conserved")}, accepted updates kept {result.AcceptedUpdates - result.AcceptedUpdatesMissing.Count} of {result.AcceptedUpdates}, orphans {result.OrphanedProcesses.Count}, crashes {result.Crashes.Count}
                    accuracy {result.Accuracy?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "-"}, without faults {result.AccuracyNoFaults?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "-"}
                    {(result.AllChecksOk ? "all checks ok" : "CHECKS FAILED")}
                    """));
            }
            return result.AllChecksOk ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }
}
