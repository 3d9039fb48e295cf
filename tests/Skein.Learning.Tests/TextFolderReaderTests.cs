using System.Text;
using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class TextFolderReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-textdir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private Task<TextFormatException> Refused() =>
        Assert.ThrowsAsync<TextFormatException>(() => TextFolderReader.ReadAsync(_dir, TestContext.Current.CancellationToken));

    [Fact]
    public async Task Each_txt_file_is_a_document_and_each_jsonl_line_a_document_with_its_other_fields_as_metadata()
    {
        Write("a.txt", "Call me Ishmael — a whaler.\n");
        Write("b.jsonl", "{\"text\":\"first\",\"source\":\"web\",\"score\":0.5}\n\n{\"text\":\"second\"}\n");
        Write("ignored.md", "not a document");

        var docs = await TextFolderReader.ReadAsync(_dir, TestContext.Current.CancellationToken);

        Assert.Equal(["a.txt", "b.jsonl:1", "b.jsonl:3"], docs.Select(d => d.Id));
        Assert.Equal("Call me Ishmael — a whaler.\n", docs[0].Text);
        Assert.Equal("first", docs[1].Text);
        Assert.Equal("web", docs[1].Metadata["source"]);
        Assert.Equal("0.5", docs[1].Metadata["score"]);
        Assert.False(docs[1].Metadata.ContainsKey("text"));
        Assert.Empty(docs[2].Metadata);
    }

    [Fact]
    public async Task Invalid_json_is_refused_naming_the_file_and_line()
    {
        var path = Write("c.jsonl", "{\"text\":\"ok\"}\n{\"text\": \"unterminated}\n");
        var ex = await Refused();
        Assert.StartsWith($"{path}:2: invalid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jsonl_line_without_a_text_string_is_refused_naming_the_file_and_line()
    {
        var path = Write("d.jsonl", "{\"text\":\"ok\"}\n{\"body\":\"no text here\"}\n");
        var ex = await Refused();
        Assert.StartsWith($"{path}:2: missing \"text\"", ex.Message, StringComparison.Ordinal);

        Write("d.jsonl", "[\"text\"]\n");
        Assert.Contains("expected a JSON object", (await Refused()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_that_is_not_utf8_is_refused_naming_the_file_and_line()
    {
        var path = Write("e.txt", [.. "line one\nline two "u8, 0xE9, .. "t\u00e9\n"u8]);
        var ex = await Refused();
        Assert.StartsWith($"{path}:2: not valid UTF-8", ex.Message, StringComparison.Ordinal);

        File.Delete(path);
        var jsonl = Write("f.jsonl", [.. "{\"text\":\"ok\"}\n{\"text\":\"caf"u8, 0xE9, .. "\"}\n"u8]);
        ex = await Refused();
        Assert.StartsWith($"{jsonl}:2: not valid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_folder_or_an_empty_file_is_refused_and_a_missing_folder_is_unavailable()
    {
        Write("notes.md", "no documents here");
        Assert.Contains("no .txt or .jsonl files", (await Refused()).Message, StringComparison.Ordinal);

        var empty = Write("g.txt", "  \n");
        Assert.StartsWith($"{empty}: the file is empty", (await Refused()).Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<DataUnavailableException>(() => TextFolderReader.ReadAsync(Path.Combine(_dir, "nope"), TestContext.Current.CancellationToken));
    }
}
