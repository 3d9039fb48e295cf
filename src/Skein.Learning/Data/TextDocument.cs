namespace Skein.Learning.Data;

/// <summary>One document of a corpus: an id (where it came from), its UTF-8 text, and any other fields as strings.</summary>
public sealed record TextDocument(string Id, string Text, IReadOnlyDictionary<string, string> Metadata);

/// <summary>One State of the Union address; <see cref="Id"/> is its file's name without extension (e.g. 1790_george_washington_n).</summary>
public sealed record SotuSpeech(string Id, int Year, string President, string Party, string Text)
{
    public TextDocument ToDocument() => new(Id, Text, new Dictionary<string, string>
    {
        ["year"] = Year.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["president"] = President,
        ["party"] = Party,
    });
}

/// <summary>Moby-Dick: the whole text and its chapters (id chapter-N, metadata number and title).</summary>
public sealed record MobyDickText(string Text, IReadOnlyList<TextDocument> Chapters);

/// <summary>Raised when a text file is not what a reader expects; the message names the file, the line and what was expected.</summary>
public sealed class TextFormatException(string message) : Exception(message);
