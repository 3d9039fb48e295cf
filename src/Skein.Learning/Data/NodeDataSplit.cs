using Skein.Core;

namespace Skein.Learning.Data;

/// <summary>How a dataset is dealt to a network's nodes: trainers by a partition, validators a held-out share each.</summary>
public sealed record NodeSplitPlan
{
    public PartitionKind Partition { get; init; } = PartitionKind.Iid;

    public int Trainers { get; init; } = 3;

    public int Validators { get; init; } = 1;

    /// <summary>Examples each validator keeps, never trained on; null: a tenth of the data shared among them, at most 1,000 each.</summary>
    public int? HeldOutPerValidator { get; init; }

    /// <summary>Dirichlet's concentration (small: few classes per trainer).</summary>
    public double Alpha { get; init; } = 0.5;

    public int ShardsPerTrainer { get; init; } = 2;

    /// <summary>Examples set aside as the coordinator's public test set (<c>eval/</c>), never given to a node; 0: none.</summary>
    public int EvalExamples { get; init; }

    public ulong Seed { get; init; } = 42;

    /// <summary>The folder names: <c>trainer-01</c>, <c>validator-1</c> (zero-padded to the count's width).</summary>
    public string TrainerName(int i) => $"trainer-{(i + 1).ToString(new string('0', Math.Max(2, Trainers.ToString(System.Globalization.CultureInfo.InvariantCulture).Length)), System.Globalization.CultureInfo.InvariantCulture)}";

    /// <inheritdoc cref="TrainerName"/>
    public static string ValidatorName(int i) => $"validator-{i + 1}";

    /// <summary>The first problem with the plan for a dataset of <paramref name="examples"/>, as "field: rule", or null.</summary>
    public string? Check(int examples)
    {
        if (Trainers < 1)
        {
            return $"trainers: at least 1, got {Trainers}";
        }
        if (Validators < 0)
        {
            return $"validators: at least 0, got {Validators}";
        }
        if (HeldOutPerValidator is < 1)
        {
            return $"heldout: at least 1 example per validator, got {HeldOutPerValidator}";
        }
        if (EvalExamples < 0)
        {
            return $"eval: at least 0 examples, got {EvalExamples}";
        }
        var heldOut = (HeldOut(examples) * Validators) + EvalExamples;
        var left = examples - heldOut;
        var needed = Partition == PartitionKind.Shards ? Trainers * ShardsPerTrainer : Trainers;
        if (left < needed)
        {
            return $"trainers: {examples} examples, {heldOut} held out for validators{(EvalExamples > 0 ? " and the coordinator's test set" : "")}, leave {left} for {Trainers} trainers, "
                + $"who need at least {needed}{(Partition == PartitionKind.Shards ? $" ({ShardsPerTrainer} shards each)" : "")}";
        }
        return Partition == PartitionKind.Dirichlet && !(Alpha > 0 && double.IsFinite(Alpha)) ? $"alpha: must be a finite number > 0, got {Alpha}" : null;
    }

    /// <summary>Examples each validator holds out of <paramref name="examples"/>.</summary>
    public int HeldOut(int examples) => Validators == 0 ? 0 : HeldOutPerValidator ?? Math.Max(1, Math.Min(1000, examples / 10 / Validators));
}

/// <summary>One node's folder as written: its name, where, which prefix its files carry, and examples per class.</summary>
public sealed record NodeDataFolder(string Name, string Role, string Folder, int Examples, IReadOnlyList<int> PerClass);

/// <summary>
/// Writes one folder per node from one labelled dataset: held-out examples for each validator first (a seeded
/// shuffle), then the coordinator's test set if asked for, then the rest partitioned among trainers as the simulator does. Disjoint, and the same on any machine
/// for the same seed.
/// </summary>
public static class NodeDataSplit
{
    /// <summary>The folder of the coordinator's public test set, beside the nodes' folders.</summary>
    public const string EvalFolder = "eval";

    public static IReadOnlyList<NodeDataFolder> Write(IdxArray images, IdxArray labels, IReadOnlyList<string> classes, NodeSplitPlan plan, string outDirectory)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Check(labels.Count) is { } problem)
        {
            throw new ArgumentException(problem);
        }
        var order = Enumerable.Range(0, labels.Count).ToArray();
        DeterministicRandom.Derive(plan.Seed, "split/heldout").Shuffle(order.AsSpan());
        var each = plan.HeldOut(labels.Count);
        var written = new List<NodeDataFolder>();
        var reserved = (each * plan.Validators) + plan.EvalExamples;
        var pool = order[reserved..];
        Array.Sort(pool);
        var poolLabels = pool.Select(i => labels.Data[i]).ToArray();
        var parts = DataPartitioner.Create(plan.Partition, poolLabels, classes.Count, plan.Trainers, plan.Seed, plan.Alpha, plan.ShardsPerTrainer);
        for (var t = 0; t < plan.Trainers; t++)
        {
            written.Add(WriteFolder(plan.TrainerName(t), "trainer", "train", parts[t].Select(i => pool[i]).ToArray()));
        }
        for (var v = 0; v < plan.Validators; v++)
        {
            var mine = order.AsSpan(v * each, each).ToArray();
            Array.Sort(mine);
            written.Add(WriteFolder(NodeSplitPlan.ValidatorName(v), "validator", "heldout", mine));
        }
        if (plan.EvalExamples > 0)
        {
            var eval = order.AsSpan(each * plan.Validators, plan.EvalExamples).ToArray();
            Array.Sort(eval);
            _ = WriteFolder(EvalFolder, "coordinator", "eval", eval);
        }
        return written;

        NodeDataFolder WriteFolder(string name, string role, string prefix, int[] indices)
        {
            var folder = Path.Combine(outDirectory, name);
            Directory.CreateDirectory(folder);
            var size = images.ItemSize;
            var pixels = new byte[indices.Length * size];
            var tags = new byte[indices.Length];
            var perClass = new int[classes.Count];
            for (var i = 0; i < indices.Length; i++)
            {
                images.Data.AsSpan(indices[i] * size, size).CopyTo(pixels.AsSpan(i * size));
                tags[i] = labels.Data[indices[i]];
                perClass[tags[i]]++;
            }
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), IdxFile.Encode([indices.Length, .. images.Dimensions.Skip(1)], pixels));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), IdxFile.Encode([indices.Length], tags));
            File.WriteAllText(Path.Combine(folder, ImageImport.ClassesFile), System.Text.Json.JsonSerializer.Serialize(new { classes }) + "\n");
            return new NodeDataFolder(name, role, folder, indices.Length, perClass);
        }
    }

    /// <summary>
    /// A dataset folder as <c>skein data import</c> writes it (<c>train-*-ubyte</c>, <c>classes.json</c>): its images,
    /// labels and class names. Without classes.json the classes are the digits up to the highest label.
    /// </summary>
    public static (IdxArray Images, IdxArray Labels, IReadOnlyList<string> Classes) ReadFolder(string folder, string prefix = "train")
    {
        var imagesFile = Path.Combine(folder, $"{prefix}-images-idx3-ubyte");
        var labelsFile = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte");
        foreach (var f in new[] { imagesFile, labelsFile })
        {
            if (!File.Exists(f))
            {
                throw new ImageImportException($"{f}: missing (a dataset folder holds {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte, as skein data import writes)");
            }
        }
        var images = IdxFile.Read(imagesFile);
        var labels = IdxFile.Read(labelsFile);
        // The checks nodes make on load, made here so that a bad dataset fails before it is split.
        _ = LabeledImages.FromIdx(images, labels, folder);
        var classesFile = Path.Combine(folder, ImageImport.ClassesFile);
        IReadOnlyList<string> classes = File.Exists(classesFile)
            ? ImageImport.ReadClasses(classesFile)
            : Enumerable.Range(0, labels.Data.Length == 0 ? 1 : labels.Data.Max() + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (labels.Data.Length > 0 && labels.Data.Max() >= classes.Count)
        {
            throw new ImageImportException($"{labelsFile}: label {labels.Data.Max()} has no class in {classesFile}");
        }
        return (images, labels, classes);
    }
}
