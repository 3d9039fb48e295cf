using System.Globalization;

namespace Skein.Console.Components;

/// <summary>How the pages write numbers, times, addresses and hashes: the same way everywhere.</summary>
public static class Fmt
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>0x1234…abcd: enough to tell addresses apart on a page, the whole one in its title.</summary>
    public static string Short(string? hex) => hex is null ? "" : hex.Length <= 14 ? hex : $"{hex[..6]}…{hex[^4..]}";

    /// <summary>A task's name from its spec, or "task N" when this coordinator has only its hash.</summary>
    public static string TaskName(Skein.Coordinator.Api.ApiTask task) => string.IsNullOrEmpty(task?.Name) ? $"task {task?.Id}" : task.Name;

    public static string Percent(double? fraction) => fraction is { } f && double.IsFinite(f) ? (f * 100).ToString("0.00", Inv) + "%" : "–";

    public static string Ppm(ulong? ppm) => ppm is { } p ? (p / 10_000.0).ToString("0.00", Inv) + "%" : "–";

    public static string Number(double? value, string format = "0.0000") => value is { } v && double.IsFinite(v) ? v.ToString(format, Inv) : "–";

    public static string Int(long value) => value.ToString("#,0", Inv);

    /// <summary>UTC date and time of a Unix millisecond, or a dash for "not yet".</summary>
    public static string Time(long unixMs) => unixMs <= 0 ? "–" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC";

    public static string Iso(long unixMs) => unixMs <= 0 ? "" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("O", Inv);

    public static string Duration(long ms) => ms switch
    {
        < 0 => "–",
        < 1_000 => $"{ms} ms",
        < 60_000 => (ms / 1000.0).ToString("0.0", Inv) + " s",
        < 3_600_000 => $"{ms / 60_000} min {ms / 1000 % 60} s",
        _ => $"{ms / 3_600_000} h {ms / 60_000 % 60} min",
    };

    /// <summary>The three phase durations of a round (training, commits, reveals) from its phase times; -1 where a phase has not ended.</summary>
    public static long[] Phases(IReadOnlyList<long>? times)
    {
        var d = new long[] { -1, -1, -1 };
        if (times is null)
        {
            return d;
        }
        for (var i = 0; i < 3 && i + 1 < times.Count; i++)
        {
            if (times[i] > 0 && times[i + 1] > 0)
            {
                d[i] = times[i + 1] - times[i];
            }
        }
        return d;
    }

    /// <summary>Tokens as the API writes them (exact decimals), trimmed to a readable precision.</summary>
    public static string Tokens(string? amount, int decimals = 4)
    {
        if (string.IsNullOrEmpty(amount))
        {
            return "0";
        }
        var dot = amount.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || amount.Length - dot - 1 <= decimals)
        {
            return amount;
        }
        var cut = amount[..(dot + 1 + decimals)].TrimEnd('0').TrimEnd('.');
        return cut.Length == 0 || cut == "0" ? "<0." + new string('0', decimals - 1) + "1" : cut;
    }

    public static decimal TokenValue(string? amount) => decimal.TryParse(amount, NumberStyles.Number, Inv, out var v) ? v : 0m;
}
