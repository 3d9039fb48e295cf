using System.Globalization;
using System.Text;

namespace Skein.Market.Sdl;

/// <summary>
/// Writes a tree of dictionaries, lists, strings, booleans, unsigned integers and nulls as canonical JSON: keys
/// sorted ordinally at every level, no whitespace, and strings escaped as Go's encoding/json escapes them (with
/// <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, U+2028 and U+2029 as <c>\u</c> escapes), because Akash hashes the
/// manifest as Go writes it (cosmos-sdk's <c>SortJSON</c> over <c>json.Marshal</c>). System.Text.Json has no
/// sorted-keys mode and its encoders escape differently, hence this small writer.
/// </summary>
internal static class CanonicalJson
{
    public static string Write(object? value)
    {
        var sb = new StringBuilder();
        Append(sb, value);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                AppendString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case uint or ulong or int or long:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case IReadOnlyDictionary<string, object?> map:
                sb.Append('{');
                var first = true;
                foreach (var key in map.Keys.Order(StringComparer.Ordinal))
                {
                    sb.Append(first ? "" : ",");
                    first = false;
                    AppendString(sb, key);
                    sb.Append(':');
                    Append(sb, map[key]);
                }
                sb.Append('}');
                break;
            case System.Collections.IEnumerable list:
                sb.Append('[');
                var firstItem = true;
                foreach (var item in list)
                {
                    sb.Append(firstItem ? "" : ",");
                    firstItem = false;
                    Append(sb, item);
                }
                sb.Append(']');
                break;
            default:
                throw new ArgumentException($"canonical JSON has no form for {value.GetType().Name}", nameof(value));
        }
    }

    private static void AppendString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                case < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
