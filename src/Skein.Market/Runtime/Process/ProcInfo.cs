using System.Globalization;

namespace Skein.Market.Runtime;

/// <summary>One line of /proc/&lt;pid&gt;/stat, the fields the process runtime needs.</summary>
internal sealed record ProcStat(int Pid, char State, int ParentPid, int ProcessGroup, int Session, ulong StartTicks)
{
    /// <summary>A zombie (Z) or dead (X) process has ended; it only waits for a parent that may never reap it.</summary>
    public bool HasEnded => State is 'Z' or 'X';
}

/// <summary>Reads the kernel's view of processes from /proc.</summary>
internal static class ProcInfo
{
    /// <summary>The stat of <paramref name="pid"/>, or null when there is no such process.</summary>
    public static ProcStat? Read(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses a stat line; the command name may hold spaces and parentheses, so fields are counted from the last ')'.</summary>
    public static ProcStat? Parse(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0 || !int.TryParse(stat.AsSpan(0, stat.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        // After ')': field 3 (state) is [0], 4 (ppid) [1], 5 (pgrp) [2], 6 (session) [3], 22 (starttime) [19].
        var f = stat[(close + 2)..].Split(' ');
        return f.Length < 20 ? null : new ProcStat(
            pid,
            f[0][0],
            int.Parse(f[1], CultureInfo.InvariantCulture),
            int.Parse(f[2], CultureInfo.InvariantCulture),
            int.Parse(f[3], CultureInfo.InvariantCulture),
            ulong.Parse(f[19], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// True when <paramref name="pid"/> still names the process that started at <paramref name="startTicks"/> and it
    /// has not ended: a recycled pid has another start time and is never taken for the workload.
    /// </summary>
    public static bool IsAlive(int pid, ulong startTicks) => Read(pid) is { HasEnded: false } s && s.StartTicks == startTicks;

    /// <summary>Live processes of session <paramref name="session"/> that started no earlier than its leader did.</summary>
    public static IReadOnlyList<ProcStat> SessionMembers(int session, ulong leaderStartTicks)
    {
        var members = new List<ProcStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { HasEnded: false } s && s.Session == session && s.StartTicks >= leaderStartTicks)
            {
                members.Add(s);
            }
        }

        return members;
    }

    /// <summary>The cores this process may run on (Cpus_allowed_list), else all of them.</summary>
    public static IReadOnlyList<int> AllowedCpus()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            if (line is not null && SlotPool.Parse(line["Cpus_allowed_list:".Length..]) is { Count: > 0 } cpus)
            {
                return cpus;
            }
        }
        catch (IOException)
        {
        }

        return [.. Enumerable.Range(0, Environment.ProcessorCount)];
    }

    /// <summary>The cpus a process may run on, e.g. "0-1", from its status file; null when it is gone.</summary>
    public static string? CpusAllowedList(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status")
                .FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?["Cpus_allowed_list:".Length..].Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The first executable named <paramref name="name"/> on PATH (or the usual system folders), or null.</summary>
    public static string? FindExecutable(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/bin", "/usr/sbin", "/sbin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
    }
}
