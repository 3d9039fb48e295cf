using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Sdl;

/// <summary>
/// Reads a YAML representation tree the way Akash's schema types it, and collects every error with its path.
/// A plain scalar is resolved by YAML 1.2's core schema (null, bool, integer, float, else string); a quoted
/// scalar is always a string, so <c>count: "2"</c> is refused as Akash's Go decoder refuses it.
/// </summary>
internal sealed partial class YamlReader(string file)
{
    private readonly List<SdlError> _errors = [];

    public IReadOnlyList<SdlError> Errors => _errors;

    public string File { get; } = file;

    public void Error(string path, string message) => _errors.Add(new SdlError(path.Length == 0 ? "(root)" : path, message) { File = File });

    public static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    public static string Index(string path, int index) => $"{path}[{index}]";

    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode s && s.Style is ScalarStyle.Plain or ScalarStyle.Any && s.Tag.IsEmpty
            && s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    public static bool IsPlain(YamlScalarNode node) => node.Style is ScalarStyle.Plain or ScalarStyle.Any && node.Tag.IsEmpty;

    public YamlMappingNode? Map(YamlNode? node, string path, string what = "a mapping (key: value pairs)")
    {
        if (node is YamlMappingNode map)
        {
            return map;
        }
        Error(path, $"must be {what}, got {Describe(node)}");
        return null;
    }

    public YamlSequenceNode? Seq(YamlNode? node, string path, string what = "a list")
    {
        if (node is YamlSequenceNode seq)
        {
            return seq;
        }
        Error(path, $"must be {what}, got {Describe(node)}");
        return null;
    }

    /// <summary>The entries of a mapping with their keys as text; a key that is not a scalar is an error.</summary>
    public IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string path)
    {
        foreach (var (key, value) in map.Children)
        {
            if (key is YamlScalarNode { Value: { } k })
            {
                yield return (k, value);
            }
            else
            {
                Error(path, $"keys must be plain text, got {Describe(key)}");
            }
        }
    }

    /// <summary>Reports every key of <paramref name="map"/> that is not in <paramref name="allowed"/>.</summary>
    public void OnlyKeys(YamlMappingNode map, string path, params string[] allowed)
    {
        foreach (var (key, _) in map.Children)
        {
            if (key is YamlScalarNode { Value: { } k } && !allowed.Contains(k, StringComparer.Ordinal))
            {
                Error(Join(path, k), $"unknown key (allowed here: {string.Join(", ", allowed)})");
            }
        }
    }

    public static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static bool Has(YamlMappingNode map, string key) => map.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>The text of a scalar; null (with an error) for a mapping, a list or a YAML null.</summary>
    public string? String(YamlNode? node, string path, string what = "a string")
    {
        if (node is YamlScalarNode s && !IsNull(s))
        {
            return s.Value ?? "";
        }
        Error(path, $"must be {what}, got {Describe(node)}");
        return null;
    }

    /// <summary>A required string entry: a missing key is reported on the parent path as "<c>key</c> is required".</summary>
    public string? RequiredString(YamlMappingNode map, string path, string key, string what = "a string")
    {
        var node = Get(map, key);
        if (node is null)
        {
            Error(path, $"{key} is required");
            return null;
        }
        return String(node, Join(path, key), what);
    }

    public List<string>? StringList(YamlNode? node, string path, bool nullAllowed)
    {
        if (nullAllowed && IsNull(node))
        {
            return null;
        }
        if (Seq(node, path, "a list of strings") is not { } seq)
        {
            return null;
        }
        var list = new List<string>();
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (String(seq.Children[i], Index(path, i)) is { } value)
            {
                list.Add(value);
            }
        }
        return list;
    }

    /// <summary>A YAML integer (a plain scalar of digits); text, quoted numbers and fractions are errors.</summary>
    public long? Integer(YamlNode? node, string path)
    {
        if (node is YamlScalarNode s && IsPlain(s) && IntegerPattern().IsMatch(s.Value ?? "")
            && long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        Error(path, $"must be a whole number, got {Describe(node)}");
        return null;
    }

    /// <summary>A YAML boolean: <c>true</c> or <c>false</c> unquoted.</summary>
    public bool? Bool(YamlNode? node, string path)
    {
        if (node is YamlScalarNode s && IsPlain(s) && BoolValue(s.Value) is { } b)
        {
            return b;
        }
        Error(path, $"must be true or false, got {Describe(node)}");
        return null;
    }

    public static bool? BoolValue(string? text) => text switch
    {
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" => false,
        _ => null,
    };

    /// <summary>True for a plain scalar YAML reads as a number (an integer or a float).</summary>
    public static bool IsNumber(YamlScalarNode s) => IsPlain(s) && NumberPattern().IsMatch(s.Value ?? "");

    public static string Describe(YamlNode? node) => node switch
    {
        null => "nothing",
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s when IsNull(s) => "null",
        YamlScalarNode s when IsPlain(s) && BoolValue(s.Value) is not null => $"{s.Value} (a boolean)",
        YamlScalarNode s when IsNumber(s) => $"{s.Value} (a number)",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex NumberPattern();
}
