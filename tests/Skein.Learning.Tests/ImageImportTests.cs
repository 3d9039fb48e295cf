using System.Globalization;
using System.Text;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using SkiaSharp;

namespace Skein.Learning.Tests;

/// <summary>`skein data import`: one's own images become node folders a task trains on; bad input is refused by file.</summary>
public sealed class ImageImportTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("skein-import-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Root => Path.Combine(_dir.FullName, "photos");

    [Fact]
    public void An_image_folder_becomes_node_folders_that_a_model_learns_from()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 60);
        var imported = ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken);
        Assert.Equal(["bars", "columns", "ring"], imported.Classes);
        Assert.Equal([60, 60, 60], imported.PerClass);
        Assert.Equal(180, imported.Resized);
        Assert.Equal([180, 28, 28], imported.Images.Dimensions);
        // Light strokes on black survive the resize as light pixels on a dark ground.
        var mean = imported.Images.Data.Average(b => (double)b);
        Assert.InRange(mean, 10, 128);

        var dataset = Path.Combine(_dir.FullName, "dataset");
        imported.Write(dataset, "train");
        var (images, labels, classes) = NodeDataSplit.ReadFolder(dataset);
        Assert.Equal(imported.Classes, classes);
        var folders = NodeDataSplit.Write(images, labels, classes, new NodeSplitPlan { Trainers = 3, Validators = 1, HeldOutPerValidator = 30 }, Path.Combine(_dir.FullName, "nodes"));
        Assert.Equal(["trainer-01", "trainer-02", "trainer-03", "validator-1"], folders.Select(f => f.Name));
        Assert.Equal(180, folders.Sum(f => f.Examples));

        // What a node does with its folder: load train-* (a trainer) and heldout-* (a validator), train, score.
        var train = LabeledImages.FromIdx(IdxFile.Read(Path.Combine(folders[0].Folder, "train-images-idx3-ubyte")), IdxFile.Read(Path.Combine(folders[0].Folder, "train-labels-idx1-ubyte")), "train");
        var heldOut = LabeledImages.FromIdx(IdxFile.Read(Path.Combine(folders[3].Folder, "heldout-images-idx3-ubyte")), IdxFile.Read(Path.Combine(folders[3].Folder, "heldout-labels-idx1-ubyte")), "heldout");
        using var model = TorchModel.Create(ModelKind.Mlp2NN);
        model.Load(TorchModel.InitialParameters(model.Layout, 3));
        using var trainData = new ClientData(train, Enumerable.Range(0, train.Count).ToArray());
        using var testData = new ClientData(heldOut, Enumerable.Range(0, heldOut.Count).ToArray());
        var before = Evaluator.Evaluate(model, testData, cancellationToken: TestContext.Current.CancellationToken);
        LocalTrainer.Train(model, trainData, new TrainingOptions(20, 10, 0.05), 1, TestContext.Current.CancellationToken);
        var after = Evaluator.Evaluate(model, testData, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(after.Accuracy >= 0.8, $"held-out accuracy {after.Accuracy} after training (before {before.Accuracy})");
    }

    [Fact]
    public void A_second_import_with_the_first_ones_classes_gives_the_same_labels_and_refuses_a_new_class()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 2);
        var first = ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken);
        var dataset = Path.Combine(_dir.FullName, "first");
        first.Write(dataset, "train");
        var classes = ImageImport.ReadClasses(Path.Combine(dataset, ImageImport.ClassesFile));

        // A validator's folder holds only some classes: labels still follow the trainers' list.
        var validator = Path.Combine(_dir.FullName, "validator");
        Directory.CreateDirectory(Path.Combine(validator, "ring"));
        File.Copy(Path.Combine(Root, "ring", "000.png"), Path.Combine(validator, "ring", "a.png"));
        var second = ImageImport.FromImageFolder(validator, new ImageImportOptions { Classes = classes }, TestContext.Current.CancellationToken);
        Assert.Equal([(byte)2], second.Labels.Data);

        Directory.CreateDirectory(Path.Combine(validator, "zigzag"));
        File.Copy(Path.Combine(Root, "ring", "000.png"), Path.Combine(validator, "zigzag", "b.png"));
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(validator, new ImageImportOptions { Classes = classes }, TestContext.Current.CancellationToken));
        Assert.Contains(Path.Combine(validator, "zigzag"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown class 'zigzag'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_image_is_refused_by_name()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 2);
        var bad = Path.Combine(Root, "ring", "broken.png");
        File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("not a png at all"));
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.StartsWith(bad + ": unreadable image", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_image_is_refused_by_name()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 2);
        var file = Path.Combine(Root, "bars", "001.png");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..16]);
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.StartsWith(file + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_size_is_refused_when_resizing_is_off_and_the_right_size_is_taken_as_is()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 2, size: 28);
        var exact = ImageImport.FromImageFolder(Root, new ImageImportOptions { Resize = false }, TestContext.Current.CancellationToken);
        Assert.Equal(0, exact.Resized);
        // Taken as is: the grey levels are the PNG's own.
        using (var first = SKBitmap.Decode(Path.Combine(Root, "bars", "000.png")))
        {
            for (var y = 0; y < 28; y++)
            {
                Assert.Equal(first.GetPixel(14, y).Red, exact.Images.Data[(y * 28) + 14]);
            }
        }

        var big = Path.Combine(Root, "ring", "big.png");
        using (var bitmap = new SKBitmap(40, 30))
        {
            ImageImportFixtures.WritePng(bitmap, big);
        }
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions { Resize = false }, TestContext.Current.CancellationToken));
        Assert.Equal($"{big}: 40x30 pixels, expected 28x28 (resizing is off)", ex.Message);
    }

    [Fact]
    public void An_empty_class_a_stray_file_and_too_many_classes_are_refused()
    {
        ImageImportFixtures.MakeImageFolder(Root, perClass: 1);
        Directory.CreateDirectory(Path.Combine(Root, "empty"));
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.Contains($"{Path.Combine(Root, "empty")}: class 'empty' is empty", ex.Message, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(Root, "empty"));

        var notes = Path.Combine(Root, "bars", "notes.txt");
        File.WriteAllText(notes, "taken on a Tuesday");
        ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.StartsWith(notes + ": not an image file", ex.Message, StringComparison.Ordinal);
        File.Delete(notes);

        // Hidden files are skipped, as ImageFolder does.
        File.WriteAllText(Path.Combine(Root, "bars", ".DS_Store"), "x");
        Assert.Equal(3, ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken).Labels.Count);

        for (var i = 0; i < 8; i++)
        {
            var folder = Path.Combine(Root, $"extra{i}");
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(Root, "bars", "000.png"), Path.Combine(folder, "x.png"));
        }
        ex = Assert.Throws<ImageImportException>(() => ImageImport.FromImageFolder(Root, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.Contains("11 class folders, but the task's models have 10 outputs", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_rows_with_a_header_import_and_bad_rows_are_refused_by_line()
    {
        var csv = Path.Combine(_dir.FullName, "digits.csv");
        var header = "label," + string.Join(',', Enumerable.Range(0, 784).Select(i => $"pixel{i}"));
        string Row(int label, int value) => label.ToString(CultureInfo.InvariantCulture) + "," + string.Join(',', Enumerable.Repeat(value.ToString(CultureInfo.InvariantCulture), 784));
        File.WriteAllLines(csv, [header, Row(3, 10), Row(0, 200), ""]);
        var imported = ImageImport.FromCsv(csv, new ImageImportOptions(), TestContext.Current.CancellationToken);
        Assert.Equal([(byte)3, (byte)0], imported.Labels.Data);
        Assert.Equal(["0", "1", "2", "3"], imported.Classes);
        Assert.Equal(10, imported.Images.Data[0]);
        Assert.Equal(200, imported.Images.Data[784]);
        Assert.Equal(245, ImageImport.FromCsv(csv, new ImageImportOptions { Invert = true }, TestContext.Current.CancellationToken).Images.Data[0]);

        File.WriteAllLines(csv, [Row(1, 0), "2," + string.Join(',', Enumerable.Repeat("0", 700))]);
        var ex = Assert.Throws<ImageImportException>(() => ImageImport.FromCsv(csv, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.Equal($"{csv}:2: 700 pixels, expected 784 (28x28) after the label", ex.Message);

        File.WriteAllLines(csv, [Row(1, 0), Row(1, 0).Replace(",0,", ",256,", StringComparison.Ordinal)]);
        ex = Assert.Throws<ImageImportException>(() => ImageImport.FromCsv(csv, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.StartsWith($"{csv}:2: column ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'256', expected a grey level 0-255", ex.Message, StringComparison.Ordinal);

        File.WriteAllLines(csv, [Row(12, 0)]);
        ex = Assert.Throws<ImageImportException>(() => ImageImport.FromCsv(csv, new ImageImportOptions(), TestContext.Current.CancellationToken));
        Assert.Equal($"{csv}:1: unknown class '12' (expected a label 0-9)", ex.Message);

        File.WriteAllLines(csv, ["cat," + string.Join(',', Enumerable.Repeat("0", 784))]);
        Assert.Equal([(byte)1], ImageImport.FromCsv(csv, new ImageImportOptions { Classes = ["dog", "cat"] }, TestContext.Current.CancellationToken).Labels.Data);
    }

    [Fact]
    public void A_split_is_disjoint_covers_the_data_and_is_the_same_for_the_same_seed()
    {
        var count = 500;
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 5)).ToArray();
        var pixels = new byte[count * 784];
        for (var i = 0; i < count; i++)
        {
            // Each example carries its own index in its first two pixels, so folders can be traced back.
            pixels[i * 784] = (byte)(i & 0xff);
            pixels[(i * 784) + 1] = (byte)(i >> 8);
        }
        var images = new IdxArray([count, 28, 28], pixels);
        string[] classes = ["a", "b", "c", "d", "e"];
        HashSet<int> Indices(NodeDataFolder f)
        {
            var prefix = f.Role switch { "trainer" => "train", "validator" => "heldout", _ => "eval" };
            var data = IdxFile.Read(Path.Combine(f.Folder, $"{prefix}-images-idx3-ubyte")).Data;
            return Enumerable.Range(0, f.Examples).Select(i => data[i * 784] | (data[(i * 784) + 1] << 8)).ToHashSet();
        }
        foreach (var kind in Enum.GetValues<PartitionKind>())
        {
            var plan = new NodeSplitPlan { Partition = kind, Trainers = 4, Validators = 2, HeldOutPerValidator = 25, EvalExamples = 20, Seed = 9 };
            var a = NodeDataSplit.Write(images, new IdxArray([count], labels), classes, plan, Path.Combine(_dir.FullName, $"{kind}-a"));
            var b = NodeDataSplit.Write(images, new IdxArray([count], labels), classes, plan, Path.Combine(_dir.FullName, $"{kind}-b"));
            var evalFolder = Path.Combine(_dir.FullName, $"{kind}-a", NodeDataSplit.EvalFolder);
            var sets = a.Append(new NodeDataFolder("eval", "coordinator", evalFolder, 20, [])).Select(Indices).ToArray();
            Assert.Equal(count, sets.Sum(s => s.Count));
            Assert.Equal(count, sets.SelectMany(s => s).Distinct().Count());
            Assert.Equal([25, 25], a.Where(f => f.Role == "validator").Select(f => f.Examples));
            Assert.Equal(sets[..^1].Select(s => s.Order()), b.Select(Indices).Select(s => s.Order()));
        }
        var tooMany = new NodeSplitPlan { Partition = PartitionKind.Shards, Trainers = 300, Validators = 1, HeldOutPerValidator = 10 };
        var ex = Assert.Throws<ArgumentException>(() => NodeDataSplit.Write(images, new IdxArray([count], labels), classes, tooMany, Path.Combine(_dir.FullName, "x")));
        Assert.Contains("who need at least 600 (2 shards each)", ex.Message, StringComparison.Ordinal);
    }
}
