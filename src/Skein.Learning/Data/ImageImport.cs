using System.Globalization;
using System.Text;
using System.Text.Json;
using SkiaSharp;

namespace Skein.Learning.Data;

/// <summary>Raised when images cannot be imported; the message names the file (and line) and what was expected.</summary>
public sealed class ImageImportException(string message) : FormatException(message);

/// <summary>How images become a node's data: the shape the task's models take and what may be done to fit it.</summary>
public sealed record ImageImportOptions
{
    /// <summary>The models' input: 28 by 28 grey levels (MNIST's shape).</summary>
    public int Width { get; init; } = 28;

    /// <inheritdoc cref="Width"/>
    public int Height { get; init; } = 28;

    /// <summary>Resize images of another size (stretched to fit, as torchvision's <c>Resize((h, w))</c>); false: refuse them.</summary>
    public bool Resize { get; init; } = true;

    /// <summary>Turn dark-on-light images (scans, drawings) into MNIST's light-on-dark.</summary>
    public bool Invert { get; init; }

    /// <summary>
    /// The classes in label order (label 0 first). Null: every class folder, sorted by name (the ImageFolder
    /// convention). Given (a validator importing its held-out images with the trainers' list), a folder or label
    /// outside it is refused, so that the same class gets the same label on every node.
    /// </summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The task's models have ten outputs.</summary>
    public const int MaxClasses = 10;
}

/// <summary>Images in the format nodes read (IDX, as MNIST), with the class name of each label.</summary>
public sealed record ImportedImages(IdxArray Images, IdxArray Labels, IReadOnlyList<string> Classes, int Resized)
{
    /// <summary>Examples per class, in label order.</summary>
    public IReadOnlyList<int> PerClass => Classes.Select((_, i) => Labels.Data.Count(l => l == i)).ToArray();

    /// <summary>
    /// Writes <c>PREFIX-images-idx3-ubyte</c>, <c>PREFIX-labels-idx1-ubyte</c> and <c>classes.json</c> (the label of
    /// each class name) into <paramref name="folder"/>; returns the files written.
    /// </summary>
    public IReadOnlyList<string> Write(string folder, string prefix)
    {
        Directory.CreateDirectory(folder);
        var images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte");
        var labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte");
        var classes = Path.Combine(folder, ImageImport.ClassesFile);
        File.WriteAllBytes(images, IdxFile.Encode([.. Images.Dimensions], Images.Data));
        File.WriteAllBytes(labels, IdxFile.Encode([.. Labels.Dimensions], Labels.Data));
        File.WriteAllText(classes, JsonSerializer.Serialize(new { classes = Classes }) + "\n");
        return [images, labels, classes];
    }
}

/// <summary>
/// Turns one's own images into what a node reads: an image folder with one subfolder per class (torchvision's
/// ImageFolder), or a CSV of pixel rows (Kaggle's MNIST layout). Decoding and resizing are SkiaSharp's.
/// </summary>
public static class ImageImport
{
    /// <summary>The file beside the IDX files that names each label's class.</summary>
    public const string ClassesFile = "classes.json";

    /// <summary>The extensions an image folder may hold (what SkiaSharp decodes).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>Reads <c>ROOT/CLASS/IMAGE</c>: every class folder must hold at least one image, every image must decode.</summary>
    public static ImportedImages FromImageFolder(string root, ImageImportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(root))
        {
            throw new ImageImportException($"{root}: no such folder (expected one subfolder per class)");
        }
        var stray = Visible(Directory.EnumerateFiles(root)).FirstOrDefault();
        if (stray is not null)
        {
            throw new ImageImportException($"{stray}: an image must be inside a class folder (ROOT/CLASS/IMAGE), not at the root");
        }
        var folders = Visible(Directory.EnumerateDirectories(root)).Order(StringComparer.Ordinal).ToArray();
        if (folders.Length == 0)
        {
            throw new ImageImportException($"{root}: no class folders (expected one subfolder per class, e.g. {Path.Combine(root, "cat")})");
        }
        var classes = Classes(options, folders.Select(Path.GetFileName).ToArray()!, root);
        var size = options.Width * options.Height;
        var pixels = new List<byte[]>();
        var labels = new List<byte>();
        var resized = 0;
        foreach (var folder in folders)
        {
            var name = Path.GetFileName(folder);
            var label = classes.IndexOf(name);
            if (label < 0)
            {
                throw new ImageImportException($"{folder}: unknown class '{name}' (the classes are {string.Join(", ", classes)})");
            }
            var files = Visible(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)).Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
            {
                throw new ImageImportException($"{folder}: class '{name}' is empty (expected at least one image: {string.Join(", ", Extensions)})");
            }
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                {
                    throw new ImageImportException($"{file}: not an image file (expected one of {string.Join(", ", Extensions)})");
                }
                pixels.Add(Decode(file, options, ref resized));
                labels.Add((byte)label);
            }
        }
        return Build(pixels, labels, classes, options, resized, size);
    }

    /// <summary>
    /// Reads rows of <c>label,pixel,...</c> with <c>Width*Height</c> grey levels 0-255 each; a first row that is not
    /// numbers is a header. A label is a class index, or a class name when <see cref="ImageImportOptions.Classes"/> is given.
    /// </summary>
    public static ImportedImages FromCsv(string path, ImageImportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(path))
        {
            throw new ImageImportException($"{path}: no such file");
        }
        var size = options.Width * options.Height;
        var classes = options.Classes ?? Enumerable.Range(0, ImageImportOptions.MaxClasses).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (classes.Count > ImageImportOptions.MaxClasses)
        {
            throw new ImageImportException($"classes: {classes.Count} classes, but the task's models have {ImageImportOptions.MaxClasses} outputs");
        }
        var pixels = new List<byte[]>();
        var labels = new List<byte>();
        var line = 0;
        foreach (var text in File.ReadLines(path, Encoding.UTF8))
        {
            cancellationToken.ThrowIfCancellationRequested();
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var cells = text.Split(',');
            if (line == 1 && cells.Length > 1 && !byte.TryParse(cells[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue; // a header: label,pixel0,pixel1,...
            }
            if (cells.Length != size + 1)
            {
                throw new ImageImportException($"{path}:{line}: {cells.Length - 1} pixels, expected {size} ({options.Width}x{options.Height}) after the label");
            }
            var name = cells[0].Trim().Trim('"');
            var label = options.Classes is null
                ? int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < ImageImportOptions.MaxClasses ? n : -1
                : IndexOf(classes, name);
            if (label < 0)
            {
                throw new ImageImportException($"{path}:{line}: unknown class '{name}' (expected {(options.Classes is null ? "a label 0-9" : "one of " + string.Join(", ", classes))})");
            }
            var row = new byte[size];
            for (var i = 0; i < size; i++)
            {
                if (!byte.TryParse(cells[i + 1].AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                {
                    throw new ImageImportException($"{path}:{line}: column {i + 2} is '{cells[i + 1]}', expected a grey level 0-255");
                }
                row[i] = options.Invert ? (byte)(255 - v) : v;
            }
            pixels.Add(row);
            labels.Add((byte)label);
        }
        if (pixels.Count == 0)
        {
            throw new ImageImportException($"{path}: no rows (expected label,pixel,... with {size} pixels a row)");
        }
        // Classes named by index: keep those up to the highest label seen, so that classes.json does not promise ten.
        var used = options.Classes ?? classes.Take(labels.Max() + 1).ToArray();
        return Build(pixels, labels, used, options, 0, size);
    }

    /// <summary>The class list a validator's import must share: <c>classes.json</c> of an earlier import.</summary>
    public static IReadOnlyList<string> ReadClasses(string file)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            if (!doc.RootElement.TryGetProperty("classes", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new ImageImportException($"{file}: expected {{\"classes\": [\"name\", ...]}}");
            }
            var names = list.EnumerateArray().Select(e => e.GetString() ?? throw new ImageImportException($"{file}: a class name must be a string")).ToArray();
            if (names.Length == 0 || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            {
                throw new ImageImportException($"{file}: classes must be a non-empty list without repeats");
            }
            return names;
        }
        catch (JsonException ex)
        {
            throw new ImageImportException($"{file}: not JSON ({ex.Message})");
        }
        catch (InvalidOperationException ex)
        {
            throw new ImageImportException($"{file}: a class name must be a string ({ex.Message})");
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private static List<string> Classes(ImageImportOptions options, string[] folders, string root)
    {
        if (options.Classes is { } given)
        {
            if (given.Count > ImageImportOptions.MaxClasses)
            {
                throw new ImageImportException($"classes: {given.Count} classes, but the task's models have {ImageImportOptions.MaxClasses} outputs");
            }
            return [.. given];
        }
        if (folders.Length > ImageImportOptions.MaxClasses)
        {
            throw new ImageImportException($"{root}: {folders.Length} class folders, but the task's models have {ImageImportOptions.MaxClasses} outputs");
        }
        return [.. folders];
    }

    private static byte[] Decode(string file, ImageImportOptions options, ref int resized)
    {
        using var decoded = SKBitmap.Decode(file) ?? throw new ImageImportException($"{file}: unreadable image (not a valid {Path.GetExtension(file).TrimStart('.').ToUpperInvariant()} file)");
        SKBitmap? scaled = null;
        try
        {
            if (decoded.Width != options.Width || decoded.Height != options.Height)
            {
                if (!options.Resize)
                {
                    throw new ImageImportException($"{file}: {decoded.Width}x{decoded.Height} pixels, expected {options.Width}x{options.Height} (resizing is off)");
                }
                // Mitchell's cubic: what Pillow and torchvision call bicubic, close enough for digits and thumbnails.
                scaled = decoded.Resize(new SKImageInfo(options.Width, options.Height, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKCubicResampler.Mitchell))
                    ?? throw new ImageImportException($"{file}: could not be resized to {options.Width}x{options.Height}");
                resized++;
            }
            var source = scaled ?? decoded;
            // Skia converts to grey by luminance; transparent pixels come out black, MNIST's background.
            using var target = new SKBitmap(new SKImageInfo(options.Width, options.Height, SKColorType.Gray8, SKAlphaType.Opaque));
            using var pixmap = source.PeekPixels();
            if (pixmap is null || !pixmap.ReadPixels(target.Info, target.GetPixels(), target.RowBytes))
            {
                throw new ImageImportException($"{file}: could not be converted to grey levels");
            }
            var grey = new byte[options.Width * options.Height];
            for (var y = 0; y < options.Height; y++)
            {
                target.GetPixelSpan().Slice(y * target.RowBytes, options.Width).CopyTo(grey.AsSpan(y * options.Width));
            }
            if (options.Invert)
            {
                for (var i = 0; i < grey.Length; i++)
                {
                    grey[i] = (byte)(255 - grey[i]);
                }
            }
            return grey;
        }
        finally
        {
            scaled?.Dispose();
        }
    }

    private static ImportedImages Build(List<byte[]> pixels, List<byte> labels, IReadOnlyList<string> classes, ImageImportOptions options, int resized, int size)
    {
        var data = new byte[pixels.Count * size];
        for (var i = 0; i < pixels.Count; i++)
        {
            pixels[i].CopyTo(data, i * size);
        }
        return new ImportedImages(new IdxArray([pixels.Count, options.Height, options.Width], data), new IdxArray([labels.Count], [.. labels]), classes, resized);
    }

    /// <summary>Skips hidden files and folders (.DS_Store, .git) as ImageFolder does.</summary>
    private static IEnumerable<string> Visible(IEnumerable<string> paths) => paths.Where(p => !Path.GetFileName(p).StartsWith('.'));
}
