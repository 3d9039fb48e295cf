using System.Globalization;
using System.Text.Json;

namespace Skein.Learning.Data;

/// <summary>
/// Reads a user's own corpus: every .txt file in a folder is one document, every line of a .jsonl file is one
/// document (field "text", the other fields kept as metadata). Files are read in ordinal name order.
/// </summary>
public static class TextFolderReader
{
    public static async Task<IReadOnlyList<TextDocument>> ReadAsync(string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new DataUnavailableException($"text folder '{folder}' does not exist");
        }
        var files = Directory.EnumerateFiles(folder)
            .Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
        {
            throw new TextFormatException($"{folder}: no .txt or .jsonl files; expected one document per .txt file or one JSON object per .jsonl line");
        }
        var documents = new List<TextDocument>();
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
            if (file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            {
                documents.Add(ReadTxt(file, bytes));
            }
            else
            {
                documents.AddRange(ReadJsonl(file, bytes));
            }
        }
        return documents;
    }

    private static TextDocument ReadTxt(string file, byte[] bytes)
    {
        var text = TextDecoding.DecodeStrict(bytes, file, line: null);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new TextFormatException($"{file}: the file is empty; expected the document's text");
        }
        return new TextDocument(Path.GetFileName(file), text, new Dictionary<string, string>());
    }

    private static List<TextDocument> ReadJsonl(string file, byte[] bytes)
    {
        var documents = new List<TextDocument>();
        var rest = bytes.AsSpan();
        for (var line = 1; !rest.IsEmpty; line++)
        {
            var newline = rest.IndexOf((byte)'\n');
            var raw = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            var content = TextDecoding.DecodeStrict(raw, file, line);
            if (string.IsNullOrWhiteSpace(content))
            {
                continue;
            }
            documents.Add(ParseLine(file, line, content));
        }
        if (documents.Count == 0)
        {
            throw new TextFormatException($"{file}: no documents; expected one JSON object with a \"text\" field per line");
        }
        return documents;
    }

    private static TextDocument ParseLine(string file, int line, string content)
    {
        var where = $"{file}:{line.ToString(CultureInfo.InvariantCulture)}";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(content);
        }
        catch (JsonException ex)
        {
            throw new TextFormatException($"{where}: invalid JSON ({ex.Message}); expected one JSON object per line");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TextFormatException($"{where}: a JSON {root.ValueKind.ToString().ToLowerInvariant()}; expected a JSON object with a \"text\" field");
            }
            if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new TextFormatException($"{where}: missing \"text\"; expected a string field \"text\" holding the document");
            }
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject().Where(p => p.Name != "text"))
            {
                metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            return new TextDocument($"{Path.GetFileName(file)}:{line.ToString(CultureInfo.InvariantCulture)}", text.GetString()!, metadata);
        }
    }
}
