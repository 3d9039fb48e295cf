using System.Text;

namespace Skein.Market.Runtime;

/// <summary>
/// Turns a byte stream into lines: a line is complete only at its '\n' (a writer may be halfway through one), a
/// UTF-8 character split across two reads stays whole, and a trailing '\r' is dropped.
/// </summary>
internal sealed class LineAssembler
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _partial = new();

    /// <summary>The lines <paramref name="bytes"/> completed.</summary>
    public List<string> Append(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var count = _decoder.GetChars(bytes, chars, flush: false);
        var lines = new List<string>();
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            if (chars[i] != '\n')
            {
                continue;
            }

            _partial.Append(chars, start, i - start);
            lines.Add(TrimCarriageReturn(_partial.ToString()));
            _partial.Clear();
            start = i + 1;
        }

        _partial.Append(chars, start, count - start);
        return lines;
    }

    /// <summary>The unfinished last line, once the stream has ended; null when there is none.</summary>
    public string? Flush()
    {
        var rest = new char[4];
        var count = _decoder.GetChars([], rest, flush: true);
        _partial.Append(rest, 0, count);
        if (_partial.Length == 0)
        {
            return null;
        }

        var line = TrimCarriageReturn(_partial.ToString());
        _partial.Clear();
        return line;
    }

    private static string TrimCarriageReturn(string line) => line.EndsWith('\r') ? line[..^1] : line;
}
