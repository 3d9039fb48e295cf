using System.CommandLine;
using System.Globalization;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein model`: the local model registry: pretrain a base, list, show, lineage, generate text, export a file.</summary>
public static partial class ModelCommands
{
    private static readonly string[] ListColumns = ["hash", "kind", "architecture", "parent", "task/round", "contributors", "release"];

    public static Command Build()
    {
        var command = new Command("model", "The model registry in the data folder: models by SHA-256 of their safetensors file, with their lineage");
        command.Add(Pretrain());
        command.Add(List());
        command.Add(Show());
        command.Add(Lineage());
        command.Add(Generate());
        command.Add(Export());
        command.Add(Import());
        command.Add(MergeWinner());
        return command;
    }

    private static Command Import()
    {
        var command = new Command("import", "Register a Hugging Face GPT-2-style checkpoint folder (config.json, model.safetensors, optionally vocab.json and merges.txt)");
        var folder = new Argument<string>("folder") { Description = "The checkpoint folder" };
        var description = new Option<string?>("--description") { Description = "Where the model came from (default: the folder's name)" };
        command.Add(folder);
        command.Add(description);
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(folder)!);
            if (!Directory.Exists(path))
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"folder: {path} does not exist"]);
            }
            Gpt2Checkpoint checkpoint;
            try
            {
                checkpoint = await Task.Run(() => Gpt2Checkpoint.Load(path), ct);
            }
            catch (Gpt2CheckpointException ex)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [ex.Message]);
            }
            var config = checkpoint.Config;
            // Stored in the registry's own layout (Skein's names, Linear weights [out, in]), so that it loads like any base.
            var bytes = config.Layout().ToSafeTensors(checkpoint.Parameters, new Dictionary<string, string> { ["format"] = "pt", ["source"] = "gpt2-import" });
            using var registry = common.Open(parse);
            var architecture = config.IsByteLevel ? ModelRegistry.ArchitectureName(config) : $"gpt2-{config.Layers}x{config.Width}-v{config.Vocabulary}";
            var put = registry.Put(bytes, new ModelRegistration(architecture, config, ModelKind.Imported)
            {
                Description = parse.GetValue(description) ?? $"imported from {Path.GetFileName(path)}{(checkpoint.Tokenizer is null ? "" : " with its BPE tokenizer")}",
            });
            if (!put.Ok)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [put.Error!]);
            }
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, new
                {
                    hash = put.Entry!.Hash,
                    architecture,
                    layers = config.Layers,
                    heads = config.Heads,
                    width = config.Width,
                    context = config.Context,
                    vocabulary = config.Vocabulary,
                    parameters = checkpoint.Parameters.Length,
                    tokenizer = checkpoint.Tokenizer is not null,
                    size_bytes = put.Entry.SizeBytes,
                    registry = registry.Directory,
                });
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{put.Entry!.Hash} imported {architecture}: {checkpoint.Parameters.Length:N0} parameters, vocabulary {config.Vocabulary}"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private sealed record CommonOptions(Option<string?> DataDir, Option<bool> Json)
    {
        public static CommonOptions AddTo(Command command)
        {
            var common = new CommonOptions(
                new Option<string?>("--data-dir") { Description = "Per-user data folder; the registry is its models/ (default: $SKEIN_DATA_DIR or the platform's)", HelpName = "dir" },
                new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" });
            command.Add(common.DataDir);
            command.Add(common.Json);
            return common;
        }

        public string DataDirectory(ParseResult parse) => parse.GetValue(DataDir) ?? MnistStore.DefaultDataDirectory();

        public ModelRegistry Open(ParseResult parse) => new(ModelRegistry.DefaultDirectory(DataDirectory(parse)));
    }

    private static Argument<string> HashArgument() => new("hash") { Description = $"A model's SHA-256, or a unique prefix of at least {ModelRegistry.MinimumPrefix} hex digits" };

    private static Command List()
    {
        var command = new Command("list", "Every registered model, oldest first, with its release where a ledger records one");
        var common = CommonOptions.AddTo(command);
        var from = ReleaseOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            IReadOnlyDictionary<string, Release> releases;
            string? source;
            try
            {
                (releases, source) = await from.ReadAsync(parse, common.DataDirectory(parse), ct);
            }
            catch (Exception ex) when (ex is ArgumentException or HttpRequestException or InvalidDataException or Skein.Ledger.LedgerException)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [ex.Message]);
            }
            using var registry = common.Open(parse);
            var entries = registry.List();
            if (parse.GetValue(common.Json))
            {
                var models = entries.Select(e =>
                {
                    var json = System.Text.Json.JsonSerializer.SerializeToNode(EntryJson(e), JsonOutput.Options)!.AsObject();
                    json["release"] = System.Text.Json.JsonSerializer.SerializeToNode(ReleaseJson(releases.GetValueOrDefault(e.Hash)), JsonOutput.Options);
                    return json;
                }).ToArray();
                await WriteJsonAsync(parse, new { registry = registry.Directory, releases_from = source, models });
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Models[/] in {Markup.Escape(registry.Directory)}");
            foreach (var h in ListColumns)
            {
                table.AddColumn(h);
            }
            foreach (var e in entries)
            {
                table.AddRow(Short(e.Hash), ModelRegistryNames.Kind(e.Kind), e.Architecture, e.Parent is { } p ? Short(p) : "-",
                    e.TaskId is { } t ? $"{t}/{e.Round}" : "-", Markup.Escape(string.Join(", ", e.Contributors)),
                    releases.GetValueOrDefault(e.Hash) is { } r ? Markup.Escape($"{r.Name} ({r.License})") : "-");
            }
            var console = Console(parse);
            console.Write(table);
            if (source is not null)
            {
                console.MarkupLine($"releases as recorded on {Markup.Escape(source)}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "One model's entry");
        var hash = HashArgument();
        command.Add(hash);
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var registry = common.Open(parse);
            if (Resolve(parse, registry, hash) is not { } entry)
            {
                return ExitCodes.InvalidOptions;
            }
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, EntryJson(entry));
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(Describe(entry));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Lineage()
    {
        var command = new Command("lineage", "A model and its ancestors back to its root");
        var hash = HashArgument();
        command.Add(hash);
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var registry = common.Open(parse);
            if (Resolve(parse, registry, hash) is not { } entry)
            {
                return ExitCodes.InvalidOptions;
            }
            var chain = registry.Lineage(entry.Hash);
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, new { hash = entry.Hash, depth = chain.Count, lineage = chain.Select(EntryJson) });
                return ExitCodes.Ok;
            }
            foreach (var (e, i) in chain.Select((e, i) => (e, i)))
            {
                var contributors = e.Contributors.Count > 0 ? $" by {string.Join(", ", e.Contributors)}" : "";
                var round = e.Round is { } r ? $" round {r}" : "";
                await parse.InvocationConfiguration.Output.WriteLineAsync($"{new string(' ', 2 * i)}{(i == 0 ? "" : "<- ")}{e.Hash} {ModelRegistryNames.Kind(e.Kind)}{round}{contributors}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Export()
    {
        var command = new Command("export", "Copy a model's safetensors file out of the registry (its hash checked first)");
        var hash = HashArgument();
        var output = new Option<string>("--out") { Description = "The file to write", HelpName = "file", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite the file if it exists" };
        command.Add(hash);
        command.Add(output);
        command.Add(force);
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            using var registry = common.Open(parse);
            if (Resolve(parse, registry, hash) is not { } entry)
            {
                return ExitCodes.InvalidOptions;
            }
            var path = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(path) && !parse.GetValue(force))
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"--out: {path} exists (add --force to overwrite)"]);
            }
            if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"--out: folder {folder} does not exist"]);
            }
            var file = registry.ReadFile(entry.Hash);
            if (!file.Ok)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.VerificationFailed, [file.Error!]);
            }
            await File.WriteAllBytesAsync(path, file.Bytes!, ct);
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, new { hash = entry.Hash, path, size_bytes = file.Bytes!.LongLength });
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync($"{entry.Hash} -> {path} ({file.Bytes!.LongLength} bytes)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command MergeWinner()
    {
        var command = new Command("merge-winner", "Verify a settled tournament window, then register its winning adapter and the base with it merged in, with lineage to the base and the winning trainer");
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's JSON API URL", Required = true, HelpName = "url" };
        var task = new Option<ulong>("--task") { Description = "The tournament's task id", Required = true };
        var window = new Option<uint?>("--window") { Description = "The window (default: the last settled one)" };
        command.Add(coordinator);
        command.Add(task);
        command.Add(window);
        var common = CommonOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(coordinator), UriKind.Absolute, out var uri))
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"--coordinator: '{parse.GetValue(coordinator)}' is not an absolute URL"]);
            }
            using var api = new Coordinator.Api.CoordinatorApiClient(uri);
            var id = parse.GetValue(task);
            RegisteredWinner? winner;
            string? error;
            try
            {
                var w = parse.GetValue(window) ?? (await api.GetTaskAsync(id, ct)).SettledRounds;
                (winner, error) = await TournamentWinner.RegisterAsync(api, id, w, ModelRegistry.DefaultDirectory(common.DataDirectory(parse)), _ => "", ct);
            }
            catch (HttpRequestException ex)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.DataUnavailable, [$"--coordinator: {ex.Message}"]);
            }
            if (winner is null)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, error!.Contains("does not verify", StringComparison.Ordinal) ? ExitCodes.VerificationFailed : ExitCodes.InvalidOptions, [error]);
            }
            if (parse.GetValue(common.Json))
            {
                await WriteJsonAsync(parse, winner);
                return ExitCodes.Ok;
            }
            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"task {winner.Task} window {winner.Window}: winner {winner.Trainer}; adapter {winner.Adapter}; merged model {winner.MergedModel}; lineage {string.Join(" <- ", winner.Lineage.Select(l => l.Kind))}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Resolves the hash argument, printing the refusal (naming the argument) if there is one.</summary>
    private static ModelEntry? Resolve(ParseResult parse, ModelRegistry registry, Argument<string> hash)
    {
        var result = registry.Resolve(parse.GetValue(hash) ?? "");
        if (!result.Ok)
        {
            SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"HASH: {result.Error}"]);
        }
        return result.Entry;
    }

    private static object EntryJson(ModelEntry e) => new
    {
        hash = e.Hash,
        architecture = e.Architecture,
        config = new { layers = e.Config.Layers, heads = e.Config.Heads, width = e.Config.Width, context = e.Config.Context, vocabulary = e.Config.Vocabulary },
        kind = ModelRegistryNames.Kind(e.Kind),
        parent = e.Parent,
        task_id = e.TaskId,
        round = e.Round,
        contributors = e.Contributors,
        description = e.Description,
        created_at = e.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        size_bytes = e.SizeBytes,
    };

    private static string Describe(ModelEntry e) => string.Join(Environment.NewLine,
        $"hash:         {e.Hash}",
        $"kind:         {ModelRegistryNames.Kind(e.Kind)}",
        $"architecture: {e.Architecture} (layers {e.Config.Layers}, heads {e.Config.Heads}, width {e.Config.Width}, context {e.Config.Context})",
        $"parent:       {e.Parent ?? "-"}",
        $"task/round:   {(e.TaskId is { } t ? $"{t}/{e.Round}" : "-")}",
        $"contributors: {(e.Contributors.Count > 0 ? string.Join(", ", e.Contributors) : "-")}",
        $"description:  {e.Description}",
        $"created:      {e.CreatedAt.ToString("O", CultureInfo.InvariantCulture)}",
        $"size:         {e.SizeBytes} bytes");

    private static string Short(string hash) => hash[..12];

    private static IAnsiConsole Console(ParseResult parse) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });

    private static Task WriteJsonAsync(ParseResult parse, object value) => parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(value));
}
