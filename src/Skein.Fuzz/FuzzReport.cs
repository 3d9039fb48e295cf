namespace Skein.Fuzz;

/// <summary>An input that crashed a target (an exception the parser does not document) or hung it (ran past the bound).</summary>
public sealed record FuzzFinding(string Kind, long Index, string Exception, string Message, string Where, byte[] Input)
{
    /// <summary>Where the input was written, when a crash folder was given.</summary>
    public string? SavedTo { get; init; }

    public string InputBase64 => Convert.ToBase64String(Input);

    /// <summary>The first 256 bytes as hex, enough to recognise the input in a report.</summary>
    public string InputHexPrefix => Convert.ToHexStringLower(Input.AsSpan(0, Math.Min(Input.Length, 256)));
}

/// <summary>One target's run: how many inputs, what became of them, and the crashes and hangs found.</summary>
public sealed record FuzzReport(string Target, long Inputs, long Accepted, long Refused, long Crashes, long Hangs, double Seconds, IReadOnlyList<FuzzFinding> Findings)
{
    public double InputsPerSecond => Seconds > 0 ? Inputs / Seconds : 0;

    /// <summary>True when nothing crashed and nothing hung.</summary>
    public bool Clean => Crashes == 0 && Hangs == 0;
}

/// <summary>Bounds and seed of a fuzzing run.</summary>
public sealed record FuzzOptions
{
    /// <summary>Stop after this many inputs.</summary>
    public long MaxInputs { get; init; } = 1_000_000;

    /// <summary>Stop after this long, whichever comes first.</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromMinutes(10);

    public ulong Seed { get; init; } = 1;

    /// <summary>An input still running after this long is a hang.</summary>
    public TimeSpan HangAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Distinct crashes kept (and saved) per target; every crash is counted.</summary>
    public int KeepFindings { get; init; } = 5;

    /// <summary>Folder the kept crashing and hanging inputs are written to (one file each), or null.</summary>
    public string? FindingsDirectory { get; init; }
}
