using System.Text;

namespace Skein.Market.Runtime;

/// <summary>
/// Keeps secrets out of what a runtime logs, describes and reports. An environment variable is secret when its name
/// contains KEY, PASSWORD, SECRET, TOKEN or MNEMONIC (any case); an instance also masks those values inside text.
/// </summary>
public sealed class SecretFilter
{
    /// <summary>What a secret value is replaced with.</summary>
    public const string Mask = "***";

    // Shorter values would mask ordinary words and digits all over a log; a secret that short protects nothing anyway.
    private const int MinimumMaskedLength = 4;

    private static readonly string[] Markers = ["KEY", "PASSWORD", "SECRET", "TOKEN", "MNEMONIC"];

    private readonly string[] _values;

    /// <summary>A filter that masks the values of the secret variables in <paramref name="env"/>.</summary>
    public SecretFilter(IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        _values = env.Where(e => IsSecretKey(e.Key) && e.Value.Length >= MinimumMaskedLength)
            .Select(e => e.Value)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length)
            .ToArray();
    }

    /// <summary>A filter that masks nothing.</summary>
    public static SecretFilter None { get; } = new(new Dictionary<string, string>());

    /// <summary>True when a variable of this name holds a secret.</summary>
    public static bool IsSecretKey(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Markers.Any(m => name.Contains(m, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A copy of <paramref name="env"/> with every secret value replaced by <see cref="Mask"/>.</summary>
    public static IReadOnlyDictionary<string, string> Redact(IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return env.ToDictionary(e => e.Key, e => IsSecretKey(e.Key) ? Mask : e.Value, StringComparer.Ordinal);
    }

    /// <summary>"{A=1, DB_PASSWORD=***}": the env as it may appear in a log line or a message.</summary>
    public static string Describe(IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var sb = new StringBuilder("{");
        foreach (var (key, value) in Redact(env).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            sb.Append(sb.Length > 1 ? ", " : string.Empty).Append(key).Append('=').Append(value);
        }

        return sb.Append('}').ToString();
    }

    /// <summary><paramref name="text"/> with every secret value replaced by <see cref="Mask"/>.</summary>
    public string Apply(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var value in _values)
        {
            text = text.Replace(value, Mask, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>The arguments of a command line as they may be logged.</summary>
    public string Apply(IEnumerable<string> argv) => Apply(string.Join(' ', argv));
}
