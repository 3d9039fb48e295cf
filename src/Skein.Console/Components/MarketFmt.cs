using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Console.Components;

/// <summary>How the pages write the market's figures: prices per block and per hour in its denomination, escrow in tokens, runways in blocks and time.</summary>
public static class MarketFmt
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>"600 uact" (base units in the market's denomination, exact).</summary>
    public static string Denom(MarketParams rules, UInt128 units)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return $"{rules.FromBaseUnits(units)} {rules.Denom}";
    }

    /// <summary>A price per block as a price per hour at the market's block interval (the market pays per block of ledger time).</summary>
    public static decimal? PerHourValue(MarketParams rules, UInt128 unitsPerBlock)
    {
        ArgumentNullException.ThrowIfNull(rules);
        try
        {
            return decimal.Parse(rules.FromBaseUnits(unitsPerBlock), NumberStyles.Number, Inv) * 3_600_000m / rules.BlockIntervalMs;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>"432,000 uact/hour".</summary>
    public static string PerHour(MarketParams rules, UInt128 unitsPerBlock) =>
        PerHourValue(rules, unitsPerBlock) is { } h ? $"{h.ToString("#,0.##", Inv)} {rules.Denom}/hour" : "–";

    /// <summary>"5 SKN" (tokens, exact, trimmed to four decimals).</summary>
    public static string Tokens(UInt128 units) => $"{Fmt.Tokens(Skein.Ledger.Tokens.Format(units))} {Skein.Ledger.Tokens.Symbol}";

    /// <summary>"8,333 blocks (13 h 53 min)": how long the escrow pays its leases; a dash when nothing is leased.</summary>
    public static string Runway(MarketParams rules, ulong? blocks)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (blocks is not { } b)
        {
            return "–";
        }
        var ms = (double)b * rules.BlockIntervalMs;
        var time = ms >= 48 * 3_600_000d ? (ms / 86_400_000d).ToString("0.#", Inv) + " days" : Fmt.Duration((long)ms);
        return $"{Fmt.Int((long)Math.Min(b, long.MaxValue))} blocks ({time})";
    }

    /// <summary>"1.5 cores, 4 GiB memory, 10 GiB storage, 1 GPU".</summary>
    public static string Resources(ulong cpuMillis, ulong memoryBytes, ulong storageBytes, uint gpus = 0)
    {
        var parts = new List<string>
        {
            (cpuMillis / 1000m).ToString("0.###", Inv) + (cpuMillis == 1000 ? " core" : " cores"),
            Size(memoryBytes) + " memory",
            Size(storageBytes) + " storage",
        };
        if (gpus > 0)
        {
            parts.Add($"{gpus} GPU{(gpus == 1 ? "" : "s")}");
        }
        return string.Join(", ", parts);
    }

    public static string Size(ulong bytes) => bytes >= 1UL << 30
        ? (bytes / (double)(1UL << 30)).ToString("0.#", Inv) + " GiB"
        : (bytes / (double)(1UL << 20)).ToString("0.#", Inv) + " MiB";

    /// <summary>A deploy job's state in words (the badge shows the same words).</summary>
    public static string JobState(Skein.Console.Data.DeployJobState state) => state switch
    {
        Skein.Console.Data.DeployJobState.WaitingForBids => "waiting for bids",
        Skein.Console.Data.DeployJobState.NoBid => "no bid",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>The badge class of a state (its text is always shown beside the colour).</summary>
    public static string Badge(string state) => state switch
    {
        "active" or "open" or "running" or "won" or "joined" => "ok",
        "closed" or "exited" or "failed" or "insufficient_funds" or "no bid" => "bad",
        "waiting for bids" or "leased" or "preparing" => "run",
        _ => "wait",
    };
}
