using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skein.Cli.Ledger;
using Skein.Learning.Data;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein data import` and `skein data partition`: one's own images, and node folders from any dataset.</summary>
public static class DataNodeCommands
{
    private static readonly string[] Prefixes = ["train", "heldout", "eval"];

    public static Command Import()
    {
        var command = new Command("import", "Turn your own images into the files nodes read: an image folder (one subfolder per class) or a CSV of pixel rows, decoded and resized to 28x28 grey levels");
        var source = new Argument<string>("source") { Description = "The image folder (SOURCE/CLASS/IMAGE) or the CSV file (label,pixel0,...,pixel783)" };
        var format = new Option<string>("--format") { Description = "imagefolder or csv", Required = true };
        format.AcceptOnlyFromAmong("imagefolder", "csv");
        var output = new Option<string>("--out") { Description = "Folder to write the dataset to (PREFIX-images-idx3-ubyte, PREFIX-labels-idx1-ubyte, classes.json)", Required = true, HelpName = "folder" };
        var prefix = new Option<string>("--prefix") { Description = "train (a dataset to split, or one trainer's data), heldout (a validator's) or eval (a coordinator's test set)", DefaultValueFactory = _ => "train" };
        prefix.AcceptOnlyFromAmong(Prefixes);
        var noResize = new Option<bool>("--no-resize") { Description = "Refuse images that are not 28x28 instead of resizing them" };
        var invert = new Option<bool>("--invert") { Description = "Invert grey levels: dark-on-light images (scans, drawings) become MNIST's light-on-dark" };
        var classes = new Option<string?>("--classes") { Description = "classes.json of an earlier import: give every class the same label as there (a validator's held-out images, a second batch)", HelpName = "file" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        command.Add(source);
        foreach (var o in new Option[] { format, output, prefix, noResize, invert, classes, json })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => GuardAsync(parse, async () =>
        {
            var options = new ImageImportOptions
            {
                Resize = !parse.GetValue(noResize),
                Invert = parse.GetValue(invert),
                Classes = parse.GetValue(classes) is { } file
                    ? File.Exists(file) ? ImageImport.ReadClasses(file) : throw new ArgumentException($"--classes: '{file}' does not exist")
                    : null,
            };
            var src = parse.GetValue(source)!;
            var imported = parse.GetValue(format) == "csv"
                ? ImageImport.FromCsv(src, options, ct)
                : ImageImport.FromImageFolder(src, options, ct);
            var files = imported.Write(parse.GetValue(output)!, parse.GetValue(prefix)!);
            var perClass = imported.PerClass;
            var result = new
            {
                format = parse.GetValue(format),
                source = src,
                @out = parse.GetValue(output),
                images = imported.Labels.Count,
                classes = imported.Classes,
                per_class = imported.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => perClass[x.i]),
                resized = imported.Resized,
                files,
            };
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(result));
                return ExitCodes.Ok;
            }
            await stdout.WriteLineAsync($"imported {imported.Labels.Count} images in {imported.Classes.Count} classes ({imported.Resized} resized to 28x28) into {parse.GetValue(output)}");
            foreach (var (c, i) in imported.Classes.Select((c, i) => (c, i)))
            {
                await stdout.WriteLineAsync($"  label {i}: {c,-20} {perClass[i]} images");
            }
            await stdout.WriteLineAsync($"next: skein data partition --dataset {parse.GetValue(output)} --clients 3 --validators 1 --out nodes   (or: skein init network NET --data {parse.GetValue(output)})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Partition()
    {
        var command = new Command("partition", "Split a dataset into one folder per node: trainers by a partition the simulator knows, validators a held-out share each");
        var dataOptions = new DataOptions();
        var dataset = new Option<string>("--dataset") { Description = "mnist, or a dataset folder (as skein data import writes)", DefaultValueFactory = _ => "mnist", HelpName = "mnist|folder" };
        var partition = new Option<string>("--partition") { Description = "iid, shards (two label-sorted shards per trainer) or dirichlet (--alpha)", DefaultValueFactory = _ => "iid" };
        partition.AcceptOnlyFromAmong("iid", "shards", "dirichlet");
        var clients = new Option<int>("--clients") { Description = "Trainers: one folder each (trainer-01, ...)", Required = true };
        var validators = new Option<int>("--validators") { Description = "Validators: one held-out folder each (validator-1, ...)", DefaultValueFactory = _ => 1 };
        var heldOut = new Option<int?>("--heldout") { Description = "Examples each validator holds out (default: a tenth of the data among them, at most 1,000 each)" };
        var evalCount = new Option<int?>("--eval") { Description = "Examples set aside as the coordinator's test set, eval/ (default: MNIST's test set, a dataset's eval-* files, else a tenth of the data, at most 1,000)" };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration: small gives each trainer few classes", DefaultValueFactory = _ => 0.5 };
        var shards = new Option<int>("--shards-per-client") { Description = "Shards each trainer gets with --partition shards", DefaultValueFactory = _ => 2 };
        var seed = new Option<ulong>("--seed") { Description = "The same seed gives the same folders on any machine", DefaultValueFactory = _ => 42UL };
        var output = new Option<string>("--out") { Description = "Folder to write the node folders into", Required = true, HelpName = "folder" };
        var force = new Option<bool>("--force") { Description = "Overwrite node folders already there" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        dataOptions.AddTo(command);
        foreach (var o in new Option[] { dataset, partition, clients, validators, heldOut, evalCount, alpha, shards, seed, output, force, json })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => GuardAsync(parse, async () =>
        {
            using var loggers = CliLogging.Create();
            var plan = new NodeSplitPlan
            {
                Partition = Enum.Parse<PartitionKind>(parse.GetValue(partition)!, ignoreCase: true),
                Trainers = parse.GetValue(clients),
                Validators = parse.GetValue(validators),
                HeldOutPerValidator = parse.GetValue(heldOut),
                Alpha = parse.GetValue(alpha),
                ShardsPerTrainer = parse.GetValue(shards),
                Seed = parse.GetValue(seed),
                EvalExamples = parse.GetValue(evalCount) ?? 0,
            };
            var split = await SplitAsync(parse, dataOptions, parse.GetValue(dataset)!, plan, parse.GetValue(output)!, parse.GetValue(force), loggers.CreateLogger("skein"), ct,
                autoEval: parse.GetValue(evalCount) is null);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(split.ToJson()));
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("folder", "role", "examples", "per class");
            foreach (var f in split.Folders)
            {
                table.AddRow(Markup.Escape(f.Folder), f.Role, f.Examples.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(" ", f.PerClass));
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            console.Write(table);
            console.MarkupLine(split.Eval is null ? "No public test set for the coordinator (--eval-data): the dataset has none." : $"The coordinator's public test set (--eval-data): {Markup.Escape(split.Eval)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// <see cref="LedgerOptions.GuardAsync"/>, and a dataset that cannot be had (MNIST unreachable, a cached file
    /// corrupt) is exit code 3 with its reason, as <c>skein data fetch</c> does.
    /// </summary>
    internal static async Task<int> GuardAsync(ParseResult parse, Func<Task<int>> body)
    {
        try
        {
            return await LedgerOptions.GuardAsync(parse, body);
        }
        catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException)
        {
            return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.DataUnavailable, [ex.Message]);
        }
    }

    /// <summary>Loads <paramref name="dataset"/> (mnist or a folder) and writes the node folders and, where the dataset has one, the coordinator's test set.</summary>
    internal static async Task<NodeSplit> SplitAsync(ParseResult parse, DataOptions dataOptions, string dataset, NodeSplitPlan plan, string outDirectory, bool force, ILogger logger, CancellationToken ct, string trainersOption = "--clients", bool autoEval = true)
    {
        IdxArray images, labels;
        IReadOnlyList<string> classes;
        (IdxArray Images, IdxArray Labels)? eval = null;
        if (dataset == "mnist")
        {
            var files = await dataOptions.ResolveAsync(parse, logger, ct);
            (images, labels) = (IdxFile.Read(files.TrainImages), IdxFile.Read(files.TrainLabels));
            classes = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            eval = (IdxFile.Read(files.TestImages), IdxFile.Read(files.TestLabels));
        }
        else if (Directory.Exists(dataset))
        {
            (images, labels, classes) = NodeDataSplit.ReadFolder(dataset);
            if (File.Exists(Path.Combine(dataset, "eval-images-idx3-ubyte")))
            {
                var (ei, el, _) = NodeDataSplit.ReadFolder(dataset, "eval");
                eval = (ei, el);
            }
            else if (autoEval)
            {
                // No test set of its own: a tenth (at most 1,000) becomes the coordinator's, so that every round's model
                // is tested on data no node trained on, and the run reports an accuracy on one's own images.
                plan = plan with { EvalExamples = Math.Min(1000, labels.Count / 10) };
            }
        }
        else
        {
            throw new ArgumentException($"--dataset: must be mnist or a dataset folder; '{dataset}' is neither");
        }
        if (plan.EvalExamples > 0)
        {
            eval = null; // carved out of the data below, in place of the dataset's own
        }
        if (plan.Check(labels.Count) is { } problem)
        {
            throw new ArgumentException(problem.StartsWith("trainers:", StringComparison.Ordinal) ? trainersOption + problem["trainers".Length..] : "--" + problem);
        }
        var taken = Enumerable.Range(0, plan.Trainers).Select(plan.TrainerName).Concat(Enumerable.Range(0, plan.Validators).Select(NodeSplitPlan.ValidatorName)).Append("eval")
            .Select(n => Path.Combine(outDirectory, n)).Where(Directory.Exists).ToArray();
        if (taken.Length > 0 && !force)
        {
            throw new ArgumentException($"--out: {taken[0]} already exists (--force to overwrite)");
        }
        var folders = NodeDataSplit.Write(images, labels, classes, plan, outDirectory);
        string? evalFolder = plan.EvalExamples > 0 ? Path.Combine(outDirectory, NodeDataSplit.EvalFolder) : null;
        if (eval is { } e)
        {
            evalFolder = Path.Combine(outDirectory, "eval");
            new ImportedImages(e.Images, e.Labels, classes, 0).Write(evalFolder, "eval");
        }
        return new NodeSplit(dataset, plan, classes, folders, evalFolder);
    }
}

/// <summary>What <c>skein data partition</c> wrote: the node folders and the coordinator's test set, if any.</summary>
internal sealed record NodeSplit(string Dataset, NodeSplitPlan Plan, IReadOnlyList<string> Classes, IReadOnlyList<NodeDataFolder> Folders, string? Eval)
{
    public object ToJson() => new
    {
        dataset = Dataset,
        partition = Plan.Partition.ToString().ToLowerInvariant(),
        seed = Plan.Seed,
        classes = Classes,
        folders = Folders.Select(f => new { name = f.Name, role = f.Role, folder = f.Folder, examples = f.Examples, per_class = f.PerClass }),
        eval = Eval,
    };
}
