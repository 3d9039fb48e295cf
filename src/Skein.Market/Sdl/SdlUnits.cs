using System.Globalization;
using System.Text.RegularExpressions;

namespace Skein.Market.Sdl;

/// <summary>
/// Akash's quantities: sizes with the suffixes of its Go parser (units.go: <c>k</c>, <c>Ki</c>, <c>M</c>, <c>Mi</c> ... <c>E</c>,
/// <c>Ei</c>, case-sensitive, decimal or binary), CPU as cores or millicores, and price amounts as Cosmos decimals.
/// </summary>
public static partial class SdlUnits
{
    private static readonly (string Suffix, ulong Factor)[] Suffixes =
    [
        ("Ki", 1UL << 10), ("Mi", 1UL << 20), ("Gi", 1UL << 30), ("Ti", 1UL << 40), ("Pi", 1UL << 50), ("Ei", 1UL << 60),
        ("k", 1_000UL), ("M", 1_000_000UL), ("G", 1_000_000_000UL), ("T", 1_000_000_000_000UL), ("P", 1_000_000_000_000_000UL), ("E", 1_000_000_000_000_000_000UL),
    ];

    /// <summary>The suffixes a size may carry, for messages.</summary>
    public const string SuffixList = "k, Ki, M, Mi, G, Gi, T, Ti, P, Pi, E, Ei";

    /// <summary>Parses a size such as <c>512Mi</c>, <c>1.5G</c> or <c>1048576</c> (bytes) into bytes, rounding down as Akash does.</summary>
    public static bool TryParseSize(string text, out ulong bytes, bool binaryOnly = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytes = 0;
        var number = text;
        var factor = 1UL;
        foreach (var (suffix, f) in Suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                if (binaryOnly && !suffix.EndsWith('i'))
                {
                    return false;
                }
                number = text[..^suffix.Length];
                factor = f;
                break;
            }
        }
        if (binaryOnly && factor == 1 || !DecimalPattern().IsMatch(number)
            || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        try
        {
            var total = decimal.Floor(value * factor);
            if (total > ulong.MaxValue)
            {
                return false;
            }
            bytes = (ulong)total;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Writes bytes with the largest binary suffix that divides them exactly (<c>80Gi</c>, <c>1536Mi</c>, <c>1000</c>).</summary>
    public static string FormatSize(ulong bytes)
    {
        foreach (var (suffix, factor) in Suffixes.Take(6).Reverse())
        {
            if (bytes >= factor && bytes % factor == 0)
            {
                return $"{(bytes / factor).ToString(CultureInfo.InvariantCulture)}{suffix}";
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Parses CPU units: a number of cores (<c>2</c>, <c>0.5</c>) or millicores (<c>"500m"</c>) into millicores.
    /// A value finer than a millicore is refused (Akash's parser would silently truncate it).
    /// </summary>
    public static bool TryParseCpu(string text, out ulong millis)
    {
        ArgumentNullException.ThrowIfNull(text);
        millis = 0;
        var isMilli = text.EndsWith('m');
        var number = isMilli ? text[..^1] : text;
        if (!DecimalPattern().IsMatch(number) || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        if (value > uint.MaxValue)
        {
            return false; // and value * 1000 would overflow decimal past 7.9e25 (found by fuzzing)
        }
        var m = isMilli ? value : value * 1000;
        if (m != decimal.Floor(m) || m > uint.MaxValue)
        {
            return false;
        }
        millis = (ulong)m;
        return true;
    }

    /// <summary>A price amount as Cosmos writes a decimal coin: digits with an optional fraction of at most 18 places.</summary>
    public static bool TryParseAmount(string text, out decimal amount)
    {
        ArgumentNullException.ThrowIfNull(text);
        amount = 0;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return DecimalPattern().IsMatch(text) && (dot < 0 || text.Length - dot - 1 <= 18)
            && decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount);
    }

    /// <summary>An amount without insignificant zeros: <c>1000</c>, <c>0.5</c>, never <c>1000.000</c> or <c>1E3</c>.</summary>
    public static string Normalize(decimal amount)
    {
        var text = amount.ToString("F18", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) ? text.TrimEnd('0').TrimEnd('.') : text;
    }

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?$")]
    private static partial Regex DecimalPattern();
}
