using System.Globalization;
using System.Runtime.Versioning;

namespace Skein.Market.Runtime;

/// <summary>
/// Memory and CPU limits through the cgroup v1 hierarchies, for hosts whose controllers are bound there (a hybrid
/// layout: v2 mounted for containment, memory and cpu still on v1, as on this build machine). Each workload gets a
/// folder named by its id under <c>skein/</c> of the memory and cpu hierarchies: memory.limit_in_bytes, and
/// cpu.cfs_quota_us over cpu.cfs_period_us.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class CgroupV1
{
    private CgroupV1(string? memoryParent, string? cpuParent, string memoryReason, string cpuReason)
    {
        MemoryParent = memoryParent;
        CpuParent = cpuParent;
        MemoryReason = memoryReason;
        CpuReason = cpuReason;
    }

    /// <summary>Where memory-limited workload folders go; null when the memory hierarchy is not usable.</summary>
    public string? MemoryParent { get; }

    public string? CpuParent { get; }

    /// <summary>Why memory cannot be limited through v1 (for a note), or how it is.</summary>
    public string MemoryReason { get; }

    public string CpuReason { get; }

    public static CgroupV1 Disabled(string why) => new(null, null, why, why);

    /// <summary>Finds the v1 memory and cpu hierarchies and makes (or takes) their <c>skein</c> folders. Never throws.</summary>
    public static CgroupV1 Probe(string mountInfo = "/proc/self/mountinfo")
    {
        var mounts = CgroupV2.ReadMounts(mountInfo).Where(m => m.FsType == "cgroup").ToList();
        var (memory, memoryReason) = Parent(mounts, "memory", "memory.limit_in_bytes");
        var (cpu, cpuReason) = Parent(mounts, "cpu", "cpu.cfs_quota_us");
        return new CgroupV1(memory, cpu, memoryReason, cpuReason);
    }

    private static (string? Parent, string Reason) Parent(List<CgroupV2.Mount> mounts, string controller, string limitFile)
    {
        var mount = mounts.FirstOrDefault(m => m.SuperOptions.Contains(controller, StringComparer.Ordinal));
        if (mount is null)
        {
            return (null, $"no cgroup v1 {controller} hierarchy is mounted");
        }
        var parent = Path.Combine(mount.MountPoint, "skein");
        try
        {
            Directory.CreateDirectory(parent);
            return File.Exists(Path.Combine(parent, limitFile))
                ? (parent, $"{limitFile} in a cgroup v1 per workload under {parent}")
                : (null, $"{parent} is not a cgroup v1 {controller} folder");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cgroup v1 {controller} not writable here ({parent}: {e.Message})");
        }
    }

    /// <summary>
    /// Creates the workload's v1 folders the limits need (memory when <paramref name="memory"/>, cpu when
    /// <paramref name="cpu"/>) and writes the limits; returns the folders made, and the problems met.
    /// </summary>
    public IReadOnlyList<string> Create(string id, WorkloadResources resources, bool memory, bool cpu, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(problems);
        var made = new List<string>();
        if (memory && MemoryParent is not null && resources.MemoryBytes > 0)
        {
            Make(Path.Combine(MemoryParent, id), made, problems, path =>
                File.WriteAllText(Path.Combine(path, "memory.limit_in_bytes"), resources.MemoryBytes.ToString(CultureInfo.InvariantCulture)));
        }
        if (cpu && CpuParent is not null && resources.CpuMillis > 0)
        {
            Make(Path.Combine(CpuParent, id), made, problems, path =>
            {
                File.WriteAllText(Path.Combine(path, "cpu.cfs_period_us"), CgroupV2.CpuPeriodMicros.ToString(CultureInfo.InvariantCulture));
                var quota = Math.Max(1000UL, resources.CpuMillis * CgroupV2.CpuPeriodMicros / 1000);
                File.WriteAllText(Path.Combine(path, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
            });
        }
        return made;
    }

    /// <summary>Removes workload folders once their processes are gone; the ones that still hold a process stay.</summary>
    public static IReadOnlyList<string> RemoveEmpty(IEnumerable<string> folders)
    {
        var left = new List<string>();
        foreach (var folder in folders)
        {
            if (!CgroupV2.TryRemove(folder))
            {
                left.Add(folder);
            }
        }
        return left;
    }

    private static void Make(string path, List<string> made, List<string> problems, Action<string> write)
    {
        try
        {
            Directory.CreateDirectory(path);
            write(path);
            made.Add(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot set up cgroup {path}: {e.Message}");
            CgroupV2.TryRemove(path);
        }
    }
}
