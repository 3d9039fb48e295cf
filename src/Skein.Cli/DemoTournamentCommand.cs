using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Skein.Cli.Network;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Learning.Tasks;
using Skein.Ledger.Incentives;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>One submission of a tournament window: who, with what settings, what validators and the ledger made of it, and its held-out BPC.</summary>
public sealed record TournamentSubmissionReport(
    uint Window,
    int Index,
    string Trainer,
    string Address,
    string Settings,
    string Hash,
    ulong ConsensusPpm,
    bool Ranked,
    int? Rank,
    string Reward,
    double HeldoutBpc,
    string? CopyOf,
    double? CopySimilarity);

/// <summary>The copier as the network saw it: whom it copied, what it earned, what it lost.</summary>
public sealed record TournamentCopierReport(string Name, string Copied, bool Caught, string Paid, string Slashed);

/// <summary>The window's winner, merged into the base and registered.</summary>
public sealed record TournamentWinnerReport(string Trainer, string Submission, double HeldoutBpc, string Adapter, string MergedModel);

/// <summary>The JSON summary of <c>skein demo tournament</c> (--json, --summary). Field names are a public contract.</summary>
public sealed record TournamentDemoSummary(
    string Mode,
    string BaseModel,
    double BaseBpc,
    int Trainers,
    int Validators,
    uint Windows,
    uint SubmissionsPerTrainer,
    uint DecayBps,
    uint SideFloorBps,
    double CopyThreshold,
    ulong Seed,
    IReadOnlyList<TournamentSubmissionReport> Submissions,
    IReadOnlyList<string> Ranking,
    bool RankingMatchesBpc,
    double MaxIndependentSimilarity,
    TournamentCopierReport Copier,
    TournamentWinnerReport? Winner,
    IReadOnlyList<DemoLeaderboardEntry> Leaderboard,
    string Verify,
    int VerifiedWindows,
    IReadOnlyList<TextLineageEntry> Lineage,
    double WallSeconds,
    string? WorkDir);

/// <summary>
/// <c>skein demo tournament</c>: a tournament task on a network on this machine. Five trainers fine-tune their own
/// adapters of a base on State of the Union addresses of their own era, each with its own steps and learning rate
/// (one enters twice), a sixth copies the first submission it sees; three validators score every submission by bits
/// per byte on their own held-out addresses and catch the copy; the ledger pays by rank; verify recomputes it all.
/// </summary>
public static class DemoTournamentCommand
{
    private const int Honest = 5;
    private const int ValidatorCount = 3;

    // Each honest trainer's tries (steps:lr); trainer-02 enters twice. Spread apart so that the ranking is clear.
    private static readonly string[][] Tries =
    [
        ["150:0.005"],
        ["40:0.002", "200:0.006"],
        ["250:0.008"],
        ["30:0.001"],
        ["100:0.004"],
    ];

    public static Command Build()
    {
        var command = new Command("tournament", "A tournament on a network on this machine: 6 trainers fine-tune their own adapters (one copies another's), 3 validators score bits per byte, the ledger pays by rank and slashes the copier");
        var windows = new Option<uint>("--windows") { Description = "Submission windows (the pool is shared between them)", DefaultValueFactory = _ => 2 };
        var pretrain = new Option<int>("--pretrain-steps") { Description = "Steps of pretraining the base on Moby-Dick (only when the registry has no such base yet)", DefaultValueFactory = _ => 1_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the base, the split, the keys and the adapter", DefaultValueFactory = _ => 42 };
        var work = new Option<string?>("--work-dir") { Description = "Keep the network's folders (keys, ledger, blobs, logs) here instead of a temporary folder", HelpName = "folder" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Per-user data folder: corpora and the model registry (default: $SKEIN_DATA_DIR or the platform's)", HelpName = "dir" };
        var output = new OutputOptions();
        foreach (var o in new Option[] { windows, pretrain, seed, work, dataDir })
        {
            command.Add(o);
        }
        output.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(windows), parse.GetValue(pretrain), parse.GetValue(seed), parse.GetValue(work),
            parse.GetValue(dataDir) ?? MnistStore.DefaultDataDirectory(), output, ct));
        return command;
    }

    private static string TaskJson(string baseHash, uint windows) => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "name": "sotu-lora-tournament",
          "mode": "tournament",
          "tournament": { "submissions_per_trainer": 2, "decay": 0.5, "side_floor": 0.2, "copy_threshold": 0.99 },
          "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "kind": "lora", "rank": 8, "alpha": 16, "mode": "exact" } },
          "data": { "dataset": "sotu" },
          "strategy": { "name": "fedavg" },
          "training": { "batch_size": 16, "lr": 0.005, "steps": 100 },
          "validation": { "score": "bpc" },
          "rounds": {{windows}},
          "validators_per_round": {{ValidatorCount}},
          "reward_pool": "{{windows * 100}}",
          "min_stake": "10",
          "max_params": 100000,
          "reject_below": 0.25
        }
        """);

    private static async Task<int> RunAsync(ParseResult parse, uint windows, int pretrainSteps, ulong seed, string? workDir, string dataDir, OutputOptions output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        var json = parse.GetValue(output.Json);
        var summaryPath = parse.GetValue(output.Summary);
        var errors = new List<string>();
        if (windows is < 1 or > 100)
        {
            errors.Add($"--windows must be between 1 and 100, got {windows}");
        }
        if (pretrainSteps is < 1 or > 1_000_000)
        {
            errors.Add($"--pretrain-steps must be between 1 and 1000000, got {pretrainSteps}");
        }
        if (summaryPath is not null && Path.GetDirectoryName(Path.GetFullPath(summaryPath)) is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"--summary: folder '{dir}' does not exist");
        }
        if (errors.Count > 0)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
        }
        var console = DemoTextCommand.DemoConsole(json, stdout, stderr);
        console.MarkupLine("[bold]Skein demo: a fine-tuning tournament on a network on this machine[/]");

        var (moby, speeches, unavailable) = await DemoTextCommand.LoadCorporaAsync(dataDir, ct);
        if (unavailable is not null)
        {
            return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [unavailable]);
        }

        var registryFolder = ModelRegistry.DefaultDirectory(dataDir);
        var (baseHash, baseBytes, cached) = await Task.Run(() => DemoTextCommand.EnsureBase(registryFolder, Encoding.UTF8.GetBytes(moby.Text), pretrainSteps, seed, ct), ct);
        console.WriteLine($"base model {baseHash[..12]}: transformer-tiny, {(cached ? "from the model registry" : $"pretrained on Moby-Dick for {pretrainSteps} steps")}");

        var partition = TextPartitioner.ByEra(speeches, Honest, ValidatorCount, 0.1, seed);
        var copierName = $"trainer-{Honest + 1:00}";
        for (var t = 0; t < Honest; t++)
        {
            var s = partition.Trainers[t];
            console.WriteLine($"trainer-{t + 1:00}: {s.Speeches.Count} addresses, {s.FirstYear}-{s.LastYear}; tries {string.Join(" and ", Tries[t])} (steps:lr)");
        }
        console.WriteLine($"{copierName}: copies the first submission it sees, with 1% noise; validators: {string.Join(", ", partition.Validators.Select(v => $"{v.Speeches.Count} held-out addresses"))}");

        var taskJson = TaskJson(baseHash, windows);
        var spec = TaskSpec.Parse(taskJson, "task");
        var validatorFolders = new List<string>();
        var setup = new TextDemoSetup(taskJson, registryFolder, (root, trainers, validators) =>
        {
            for (var t = 0; t < trainers.Length; t++)
            {
                DemoTextCommand.WriteTexts(Path.Combine(root, trainers[t], "train"), partition.Trainers[t < Honest ? t : 0].Speeches);
            }
            for (var v = 0; v < validators.Length; v++)
            {
                var folder = Path.Combine(root, validators[v], "heldout");
                DemoTextCommand.WriteTexts(folder, partition.Validators[v].Speeches);
                validatorFolders.Add(folder);
            }
            var eval = Path.Combine(root, "coordinator-eval");
            DemoTextCommand.WriteTexts(eval, partition.Validators.SelectMany(v => v.Speeches));
            return eval;
        });
        var demoOptions = new NetworkDemoOptions
        {
            Trainers = Honest + 1,
            Validators = ValidatorCount,
            Rounds = windows,
            Seed = seed,
            WorkDirectory = workDir,
            Keep = workDir is not null,
            RentThroughMarket = false,
            Text = setup,
            DeadlineSeconds = (300, 60, 60),
            TrainerArgs = name =>
            {
                var t = int.Parse(name.AsSpan(8), CultureInfo.InvariantCulture) - 1;
                return t < Honest ? [.. Tries[t].SelectMany(x => new[] { "--try", x })] : ["--behaviour", "copy"];
            },
        };

        try
        {
            await using var demo = new NetworkDemo(demoOptions, null, new DemoCommand.ConsoleLog(console));
            await demo.StartAsync(ct);
            var verifications = new List<Coordinator.Api.RoundVerification>();
            await foreach (var r in demo.FollowAsync(ct))
            {
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"window {r.Round}: settled, {r.Accepted} ranked, {r.Rejected} voted down; the window's model (winner merged) scores BPC {r.Loss:0.0000} on the public held-out text  {r.Seconds:0.0} s"));
                verifications.Add(await demo.VerifyRoundAsync((uint)r.Round, ct));
            }

            var layout = TaskModels.Layout(spec);
            var heldOut = new List<byte[]>();
            foreach (var folder in validatorFolders)
            {
                var joined = TaskModels.JoinText((await TextFolderReader.ReadAsync(folder, ct)).Select(d => d.Text));
                heldOut.Add(joined[..Math.Min(joined.Length, BpcScore.MaxHeldOutBytes)]);
            }
            var submissions = new List<TournamentSubmissionReport>();
            double baseBpc = 0;
            // How close independent work comes to the copy threshold: the highest similarity between two trainers' non-copies.
            var maxIndependent = double.NegativeInfinity;
            // Every earlier window's submissions, as the validators compare with them: a copy may take a past winner.
            var past = new List<(string Address, string Name, uint Window, float[] Update)>();
            for (uint w = 1; w <= windows; w++)
            {
                var round = await demo.Api.GetRoundAsync(1, w, ct);
                var global = layout.FromSafeTensors(SafeTensors.Parse(await demo.Api.GetBlobAsync(round.ModelHash[2..], ct)));
                var deltas = new List<float[]>();
                foreach (var u in round.Updates)
                {
                    deltas.Add(layout.FromSafeTensors(SafeTensors.Parse(await demo.Api.GetBlobAsync(u.Hash[2..], ct))));
                }
                var names = round.Updates.Select(u => demo.Names.GetValueOrDefault(u.Trainer, u.Trainer)).ToArray();
                var all = TournamentScoring.CopyOf([.. past.Select(p => p.Address), .. round.Updates.Select(u => u.Trainer)], [.. past.Select(p => p.Update), .. deltas], spec.Tournament!.CopyThreshold);
                var copyOf = all[past.Count..];
                (string Name, float[] Update)? Original(int i) => copyOf[i] < 0 ? null
                    : copyOf[i] < past.Count ? ($"{past[copyOf[i]].Name} (window {past[copyOf[i]].Window})", past[copyOf[i]].Update)
                    : (names[copyOf[i] - past.Count], deltas[copyOf[i] - past.Count]);
                for (var i = 0; i < deltas.Count; i++)
                {
                    for (var j = i + 1; j < deltas.Count; j++)
                    {
                        if (copyOf[i] < 0 && copyOf[j] < 0 && names[i] != names[j] && TournamentScoring.Similarity(deltas[i], deltas[j]) is var sim && double.IsFinite(sim))
                        {
                            maxIndependent = Math.Max(maxIndependent, sim);
                        }
                    }
                }
                var (before, bpcs) = await Task.Run(() => HeldOutBpc(spec, baseBytes, global, deltas, heldOut, ct), ct);
                baseBpc = before;
                var order = round.Updates.Select((u, i) => (u, i)).Where(x => x.u.Accepted == true).OrderByDescending(x => x.u.ConsensusPpm).ThenBy(x => x.i).Select(x => x.i).ToList();
                var tried = new Dictionary<string, int>();
                for (var i = 0; i < round.Updates.Count; i++)
                {
                    var u = round.Updates[i];
                    var k = tried[names[i]] = tried.GetValueOrDefault(names[i], -1) + 1;
                    var t = int.Parse(names[i].AsSpan(8), CultureInfo.InvariantCulture) - 1;
                    var settings = t < Honest && k < Tries[t].Length ? Tries[t][k] : "copy";
                    submissions.Add(new TournamentSubmissionReport(w, i, names[i], u.Trainer, settings, u.Hash, u.ConsensusPpm ?? 0, u.Accepted == true,
                        order.Contains(i) ? order.IndexOf(i) + 1 : null, u.Reward ?? "0", Math.Round(bpcs[i], 4),
                        Original(i)?.Name, Original(i) is { } o ? Math.Round(TournamentScoring.Similarity(o.Update, deltas[i]), 6) : null));
                }
                past.AddRange(round.Updates.Select((u, i) => (u.Trainer, names[i], w, deltas[i])));
            }

            var final = submissions.Where(s => s.Window == windows).ToArray();
            var ranked = final.Where(s => s.Ranked).OrderBy(s => s.Rank).ToArray();
            var ranking = ranked.Select(s => s.Trainer).ToArray();
            // The ledger's ranking against the order of the ranked submissions' BPC on the validators' held-out text (lower first).
            var matches = ranked.Select(s => s.Index).SequenceEqual(ranked.OrderBy(s => s.HeldoutBpc).ThenBy(s => s.Rank).Select(s => s.Index));
            var board = await demo.LeaderboardAsync(ct);
            var copierEntry = board.Single(e => e.Name == copierName && e.Role == "trainer");
            var copied = final.FirstOrDefault(s => s.Trainer == copierName);
            var copier = new TournamentCopierReport(copierName, copied?.CopyOf ?? "", copied is { Ranked: false, ConsensusPpm: 0 } && copied.CopyOf is not null,
                copierEntry.Rewards, copierEntry.Slashed);

            TournamentWinnerReport? winner = null;
            IReadOnlyList<TextLineageEntry> lineage = [];
            if (ranked.Length > 0)
            {
                // What `skein model merge-winner` does: verify the window, then register the adapter and the merged base.
                var (registered, refused) = await TournamentWinner.RegisterAsync(demo.Api, 1, windows, registryFolder, a => demo.Names.GetValueOrDefault(a, ""), ct);
                if (registered is null)
                {
                    throw new InvalidOperationException(refused);
                }
                winner = new TournamentWinnerReport(ranked[0].Trainer, ranked[0].Hash, ranked[0].HeldoutBpc, registered.Adapter, registered.MergedModel);
                lineage = registered.Lineage;
            }
            var ok = verifications.Count == windows && verifications.All(v => v.Ok);
            var summary = new TournamentDemoSummary("tournament", baseHash, Math.Round(baseBpc, 4), Honest + 1, ValidatorCount, windows, spec.Tournament!.SubmissionsPerTrainer,
                spec.Tournament.DecayBps, spec.Tournament.SideFloorBps, spec.Tournament.CopyThreshold, seed, submissions, ranking, matches,
                double.IsFinite(maxIndependent) ? Math.Round(maxIndependent, 6) : 0, copier, winner, board,
                ok ? "ok" : "failed", verifications.Count(v => v.Ok), lineage, Math.Round(clock.Elapsed.TotalSeconds, 1), demoOptions.Keep ? demo.WorkDirectory : null);
            Show(console, summary, final);
            await DemoTextCommand.WriteSummaryAsync(NetworkDemo.SummaryJson(summary), summaryPath, json, stdout, ct);
            return ok ? ExitCodes.Ok : ExitCodes.InternalError;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or FormatException)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InternalError, [ex.Message]);
        }
    }

    private static void Show(IAnsiConsole console, TournamentDemoSummary summary, IReadOnlyList<TournamentSubmissionReport> final)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Window {summary.Windows}: submissions[/]");
        foreach (var c in new[] { "#", "trainer", "steps:lr", "held-out BPC", "consensus", "rank", "reward", "note" })
        {
            table.AddColumn(c);
        }
        foreach (var s in final.OrderBy(s => s.Rank ?? int.MaxValue).ThenBy(s => s.Index))
        {
            var note = s.CopyOf is not null ? string.Create(CultureInfo.InvariantCulture, $"copy of {s.CopyOf} (cosine {s.CopySimilarity:0.00000})")
                : s.Ranked ? "" : s.ConsensusPpm <= TournamentLimits.NeutralScore ? "no better than the base" : "not its trainer's best";
            table.AddRow($"{s.Index}", s.Trainer, s.Settings, string.Create(CultureInfo.InvariantCulture, $"{s.HeldoutBpc:0.0000}"),
                string.Create(CultureInfo.InvariantCulture, $"{s.ConsensusPpm / 1e6:0.0000}"), s.Rank is { } r ? $"{r}" : "-", s.Reward, Markup.Escape(note));
        }
        console.Write(table);
        var board = new Table().Border(TableBorder.Rounded).Title("[bold]Leaderboard[/]");
        foreach (var c in new[] { "participant", "role", "ranked", "rejected", "revealed", "rewards", "slashed" })
        {
            board.AddColumn(c);
        }
        foreach (var e in summary.Leaderboard)
        {
            board.AddRow(Markup.Escape(e.Name + (e.Name == summary.Copier.Name && e.Role == "trainer" ? " (copier)" : "")), e.Role, $"{e.Accepted}", $"{e.Rejected}", $"{e.Revealed}", e.Rewards, e.Slashed);
        }
        console.Write(board);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"base held-out BPC {summary.BaseBpc:0.0000}; ranking {string.Join(" > ", summary.Ranking)}; matches the held-out BPC order: {(summary.RankingMatchesBpc ? "yes" : "no")}"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the closest two independent submissions of different trainers: cosine {summary.MaxIndependentSimilarity:0.0000} (copy threshold {summary.CopyThreshold})"));
        console.WriteLine($"copier {summary.Copier.Name}: copied {summary.Copier.Copied}, caught: {(summary.Copier.Caught ? "yes" : "no")}, paid {summary.Copier.Paid}, slashed {summary.Copier.Slashed}");
        if (summary.Winner is { } w)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"winner {w.Trainer} (BPC {w.HeldoutBpc:0.0000}): merged into the base and registered as {w.MergedModel[..12]}; lineage {string.Join(" <- ", summary.Lineage.Select(l => l.Kind))}"));
        }
        console.WriteLine($"verify: {summary.Verify} ({summary.VerifiedWindows}/{summary.Windows} windows: every consensus, payout and window model recomputed); {summary.WallSeconds:0.0} s");
    }

    /// <summary>The base's BPC (window model) and each submission's, as the mean over the validators' scored held-out bytes.</summary>
    private static (double Base, double[] Submissions) HeldOutBpc(TaskSpec spec, byte[] baseBytes, float[] global, List<float[]> deltas, List<byte[]> heldOut, CancellationToken ct)
    {
        using var bench = FineTuningWorkbench.Open(spec, baseBytes);
        double Mean(float[] adapter) => heldOut.Average(text => bench.Bpc(adapter, text, ct).BitsPerByte);
        var result = new double[deltas.Count];
        var candidate = new float[global.Length];
        for (var i = 0; i < deltas.Count; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(global, deltas[i], candidate);
            result[i] = Mean(candidate);
        }
        return (Mean(global), result);
    }
}
