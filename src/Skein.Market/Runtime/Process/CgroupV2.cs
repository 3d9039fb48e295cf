using System.Globalization;
using System.Runtime.Versioning;

namespace Skein.Market.Runtime;

/// <summary>
/// Per-workload cgroups under one parent of the cgroup v2 hierarchy: memory.max and cpu.max where the parent offers
/// those controllers, and, with or without them, a container for the whole process tree that cgroup.kill empties.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class CgroupV2
{
    /// <summary>The CFS period cpu.max quotas are expressed in, in microseconds (the kernel's default).</summary>
    public const ulong CpuPeriodMicros = 100_000;

    private static readonly string[] Controllers = ["cpu", "memory"];

    private CgroupV2(string? parent, string? unusable, bool memory, bool cpu, bool kill, string? controllerNote)
    {
        Parent = parent;
        Unusable = unusable;
        Memory = memory;
        Cpu = cpu;
        Kill = kill;
        ControllerNote = controllerNote;
    }

    /// <summary>The folder workload cgroups are made in, when usable.</summary>
    public string? Parent { get; }

    /// <summary>Why no workload cgroup can be made here; null when one can.</summary>
    public string? Unusable { get; }

    public bool Memory { get; }

    public bool Cpu { get; }

    /// <summary>cgroup.kill exists (Linux 5.14+): the whole tree can be killed, even processes that left the session.</summary>
    public bool Kill { get; }

    /// <summary>Why a controller is missing, e.g. that it is bound to a cgroup v1 hierarchy.</summary>
    private string? ControllerNote { get; }

    public static CgroupV2 Disabled(string why) => new(null, why, false, false, false, null);

    /// <summary>
    /// Finds (or takes) the parent, creates it, and enables the memory and cpu controllers for its children where the
    /// hierarchy offers them. Never throws: anything in the way becomes the reason the limits are not enforced.
    /// </summary>
    public static CgroupV2 Probe(string? parent, string mountInfo = "/proc/self/mountinfo")
    {
        var mounts = ReadMounts(mountInfo);
        if (parent is null)
        {
            var root = mounts.FirstOrDefault(m => m.FsType == "cgroup2")?.MountPoint;
            if (root is null)
            {
                return Disabled("no cgroup v2 hierarchy is mounted");
            }

            parent = Path.Combine(root, "skein");
        }

        try
        {
            Directory.CreateDirectory(parent);
            if (!File.Exists(Path.Combine(parent, "cgroup.procs")))
            {
                return Disabled($"{parent} is not a cgroup v2 folder");
            }

            // Children get a controller only when their parent enables it for its subtree, and the parent only has
            // the ones its own parent enabled: switch both on (the grandparent may refuse; that is then the reason).
            var grand = Path.GetDirectoryName(parent);
            if (grand is not null)
            {
                Enable(grand, Read(Path.Combine(grand, "cgroup.controllers")));
            }

            Enable(parent, Read(Path.Combine(parent, "cgroup.controllers")));
            var enabled = Read(Path.Combine(parent, "cgroup.subtree_control"));
            var v1 = mounts.Where(m => m.FsType == "cgroup").SelectMany(m => m.SuperOptions).ToHashSet(StringComparer.Ordinal);
            var note = v1.Count == 0 ? null : $"bound to a cgroup v1 hierarchy here: {string.Join(", ", v1.Intersect(["memory", "cpu"]).Order(StringComparer.Ordinal))}";
            var kill = File.Exists(Path.Combine(parent, "cgroup.kill"));
            return new CgroupV2(parent, null, enabled.Contains("memory"), enabled.Contains("cpu"), kill, note);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Disabled($"cgroup v2 not writable here ({parent}: {e.Message})");
        }
    }

    /// <summary>Why <paramref name="controller"/> ("memory" or "cpu") is not enforced, for a limit note.</summary>
    public string MissingReason(string controller) => Unusable
        ?? $"the cgroup v2 parent {Parent} offers no {controller} controller" + (ControllerNote is null ? string.Empty : $" ({ControllerNote})");

    /// <summary>
    /// Creates the workload's cgroup and writes its limits. Returns its folder, or null with <paramref name="error"/>
    /// when cgroups are unusable here or this one could not be set up.
    /// </summary>
    public string? Create(string id, WorkloadResources resources, out string? error)
    {
        error = Unusable;
        if (Parent is null)
        {
            return null;
        }

        var path = Path.Combine(Parent, id);
        try
        {
            Directory.CreateDirectory(path);
            if (Memory && resources.MemoryBytes > 0)
            {
                File.WriteAllText(Path.Combine(path, "memory.max"), resources.MemoryBytes.ToString(CultureInfo.InvariantCulture));
            }

            if (Cpu && resources.CpuMillis > 0)
            {
                // The kernel refuses quotas under 1 ms per period.
                var quota = Math.Max(1000UL, resources.CpuMillis * CpuPeriodMicros / 1000);
                File.WriteAllText(Path.Combine(path, "cpu.max"), string.Create(CultureInfo.InvariantCulture, $"{quota} {CpuPeriodMicros}"));
            }

            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot set up cgroup {path}: {e.Message}";
            TryRemove(path);
            return null;
        }
    }

    /// <summary>SIGKILLs every process in the cgroup at once.</summary>
    public static void KillAll(string path)
    {
        try
        {
            File.WriteAllText(Path.Combine(path, "cgroup.kill"), "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Older kernels have no cgroup.kill; the process group and session are signalled anyway.
        }
    }

    /// <summary>True when the cgroup holds no live process (or is gone).</summary>
    public static bool IsEmpty(string path)
    {
        try
        {
            return !File.ReadLines(Path.Combine(path, "cgroup.events")).Any(l => l == "populated 1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Removes an empty cgroup folder; false while processes remain in it or the folder is not a real cgroup.</summary>
    public static bool TryRemove(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: false);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Enable(string cgroup, HashSet<string> available)
    {
        var wanted = Controllers.Where(available.Contains).Select(c => "+" + c).ToArray();
        if (wanted.Length == 0 || TryWrite(Path.Combine(cgroup, "cgroup.subtree_control"), string.Join(' ', wanted)))
        {
            return;
        }

        // One refused controller fails the whole write; try them one by one so the other still gets enabled.
        foreach (var controller in wanted)
        {
            TryWrite(Path.Combine(cgroup, "cgroup.subtree_control"), controller);
        }
    }

    private static bool TryWrite(string file, string text)
    {
        try
        {
            File.WriteAllText(file, text);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Refused (e.g. the cgroup holds processes itself): the controller then stays missing and the note says so.
            return false;
        }
    }

    private static HashSet<string> Read(string file)
    {
        try
        {
            return File.ReadAllText(file).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(t => t.TrimStart('+')).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    internal sealed record Mount(string MountPoint, string FsType, string[] SuperOptions);

    internal static List<Mount> ReadMounts(string mountInfo)
    {
        try
        {
            // "36 35 98:0 / /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue": fields after " - " are type, source, options.
            return File.ReadLines(mountInfo).Select(line =>
            {
                var sep = line.IndexOf(" - ", StringComparison.Ordinal);
                var left = line[..sep].Split(' ');
                var right = line[(sep + 3)..].Split(' ');
                return new Mount(left[4], right[0], right.Length > 2 ? right[2].Split(',') : []);
            }).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
