using System.Text;

namespace Skein.Fuzz;

/// <summary>Dictionaries of format tokens, as bytes.</summary>
internal static class FuzzText
{
    public static readonly string[] Json = ["null", "true", "false", "{}", "[]", "\"\"", ",", ":", "{", "}", "[", "]", "\"", "\\u0000", "/*", "*/", "//", "1e999", "-"];

    public static IReadOnlyList<byte[]> Of(params IEnumerable<string>[] lists) => [.. lists.SelectMany(l => l).Distinct(StringComparer.Ordinal).Select(Encoding.UTF8.GetBytes)];

    /// <summary>Every key as a JSON property name (<c>"key":</c>) and as a bare string.</summary>
    public static IEnumerable<string> JsonKeys(params string[] keys) => keys.SelectMany(k => new[] { $"\"{k}\":", $"\"{k}\"" });

    /// <summary>Text as a stranger sends it: bytes decoded as UTF-8, invalid sequences replaced, as File.ReadAllText and ASP.NET do.</summary>
    public static string Text(byte[] input) => Encoding.UTF8.GetString(input);
}
