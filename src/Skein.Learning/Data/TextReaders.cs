using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace Skein.Learning.Data;

/// <summary>Reads the pinned corpora (State of the Union, Moby-Dick) from files that <see cref="TextCorpusStore"/> verified.</summary>
public static partial class TextCorpusReader
{
    /// <summary>Every address with its year, president and party, ordered by year then file name.</summary>
    public static async Task<IReadOnlyList<SotuSpeech>> ReadSotuAsync(TextCorpusFiles files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var speeches = new List<SotuSpeech>(files.Paths.Count);
        foreach (var path in files.Paths)
        {
            var bytes = await TextDecoding.ReadContentAsync(path, cancellationToken);
            speeches.Add(ParseSotu(SotuId(path), bytes, path));
        }
        return speeches.OrderBy(s => s.Year).ThenBy(s => s.Id, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Parses one package file: a JSON object with year (number), name, party and text.</summary>
    public static SotuSpeech ParseSotu(string id, byte[] json, string where)
    {
        ArgumentNullException.ThrowIfNull(json);
        TextDecoding.DecodeStrict(json, where, line: null);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("year", out var year) || year.ValueKind != JsonValueKind.Number
                || !TryString(root, "name", out var name) || !TryString(root, "party", out var party) || !TryString(root, "text", out var text))
            {
                throw new TextFormatException($"{where}: expected a JSON object with year (number), name, party and text (strings)");
            }
            return new SotuSpeech(id, year.GetInt32(), name, party, text);
        }
        catch (JsonException ex)
        {
            throw new TextFormatException($"{where}: invalid JSON ({ex.Message})");
        }
    }

    /// <summary>The whole of Moby-Dick and its chapters, split at the "CHAPTER N. Title." headings.</summary>
    public static async Task<MobyDickText> ReadMobyDickAsync(TextCorpusFiles files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var path = files.Paths[0];
        var text = TextDecoding.DecodeStrict(await TextDecoding.ReadContentAsync(path, cancellationToken), path, line: null);
        return new MobyDickText(text, SplitChapters(text));
    }

    /// <summary>Chapters of a text whose chapters start with a line "CHAPTER N. Title."; text before the first heading is dropped.</summary>
    public static IReadOnlyList<TextDocument> SplitChapters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var headings = ChapterHeading().Matches(text);
        var chapters = new List<TextDocument>(headings.Count);
        for (var i = 0; i < headings.Count; i++)
        {
            var h = headings[i];
            var end = i + 1 < headings.Count ? headings[i + 1].Index : text.Length;
            var number = h.Groups[1].Value;
            chapters.Add(new TextDocument($"chapter-{number}", text[(h.Index + h.Length)..end].Trim(),
                new Dictionary<string, string> { ["chapter"] = number, ["title"] = h.Groups[2].Value.Trim() }));
        }
        return chapters;
    }

    private static string SotuId(string path)
    {
        var name = Path.GetFileName(path);
        name = name.EndsWith(".gz", StringComparison.Ordinal) ? name[..^3] : name;
        return Path.GetFileNameWithoutExtension(name);
    }

    private static bool TryString(JsonElement root, string property, out string value)
    {
        value = root.TryGetProperty(property, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
        return e.ValueKind == JsonValueKind.String;
    }

    [GeneratedRegex(@"^CHAPTER (\d+)\.[ \t]*(.*?)\r?$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex ChapterHeading();
}

/// <summary>Strict UTF-8 decoding and gzip-aware reading shared by the text readers.</summary>
internal static class TextDecoding
{
    public static async Task<byte[]> ReadContentAsync(string path, CancellationToken cancellationToken)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
        {
            return bytes;
        }
        using var output = new MemoryStream();
        await using (var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress))
        {
            await gz.CopyToAsync(output, cancellationToken);
        }
        return output.ToArray();
    }

    /// <summary>Decodes UTF-8 (a leading BOM is skipped) or says where the first invalid byte is.</summary>
    public static string DecodeStrict(ReadOnlySpan<byte> bytes, string file, int? line)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }
        var chars = ArrayPool<char>.Shared.Rent(bytes.Length);
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                // Counting newlines before the bad byte gives the line a text editor would show.
                var at = line ?? 1 + bytes[..read].Count((byte)'\n');
                throw new TextFormatException(
                    $"{file}:{at.ToString(CultureInfo.InvariantCulture)}: not valid UTF-8 (byte 0x{bytes[read]:x2} at offset {read.ToString(CultureInfo.InvariantCulture)}); expected UTF-8 text");
            }
            return new string(chars, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
