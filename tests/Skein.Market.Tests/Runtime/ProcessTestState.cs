using System.Globalization;
using System.Runtime.Versioning;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>
/// A process runtime's state folder (and cgroup parent, where cgroup v2 is writable) for one test. Dispose kills
/// every workload started under it, whole sessions, and removes the folder and the cgroups.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ProcessTestState : IDisposable
{
    public ProcessTestState(bool cgroups = true)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("skein-rt-").FullName;
        if (cgroups && CgroupV2Mount() is { } mount)
        {
            CgroupParent = Path.Combine(mount, "skein-test-" + Guid.NewGuid().ToString("N")[..8]);
        }
    }

    public string Directory { get; }

    /// <summary>A cgroup parent of this test's own; null where no cgroup v2 hierarchy is mounted.</summary>
    public string? CgroupParent { get; }

    public static ImageCatalog Images { get; } = new ImageCatalog()
        .Add("test/sh", new ResolvedImage(["/bin/sh", "-c"], []))
        .Add("test/dotnet-sh", new ResolvedImage(["/bin/sh", "-c"], [], IsDotNet: true));

    public ProcessRuntimeOptions Options(IReadOnlyList<int>? cpuPool = null, string? cgroupParent = null, bool cgroups = true) => new()
    {
        StateDirectory = Directory,
        CgroupParent = cgroupParent ?? CgroupParent,
        UseCgroups = cgroups && (cgroupParent ?? CgroupParent) is not null,
        CpuPool = cpuPool,
    };

    public int? Pid(string id) => int.TryParse(
        File.Exists(PidFile(id)) ? File.ReadAllText(PidFile(id)).Trim() : null, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    /// <summary>SIGKILLs the workload's whole session and waits until its wrapper has ended.</summary>
    public async Task KillAsync(string id)
    {
        if (Pid(id) is not { } pid || ProcInfo.Read(pid) is not { } leader)
        {
            return;
        }

        foreach (var member in ProcInfo.SessionMembers(pid, leader.StartTicks))
        {
            Signals.ToProcess(member.Pid, Signals.SIGKILL);
        }

        await Eventually.Until(() => !ProcInfo.IsAlive(pid, leader.StartTicks), $"workload {id} to die");
    }

    public void Dispose()
    {
        var workloads = Path.Combine(Directory, "workloads");
        if (System.IO.Directory.Exists(workloads))
        {
            foreach (var folder in System.IO.Directory.EnumerateDirectories(workloads))
            {
                KillAsync(Path.GetFileName(folder)).GetAwaiter().GetResult();
                // The v1 limit folders of workloads killed behind the runtime's back.
                foreach (var hierarchy in new[] { "/sys/fs/cgroup/memory/skein", "/sys/fs/cgroup/cpu/skein" })
                {
                    CgroupV2.TryRemove(Path.Combine(hierarchy, Path.GetFileName(folder)));
                }
            }
        }

        if (CgroupParent is not null && System.IO.Directory.Exists(CgroupParent))
        {
            foreach (var child in System.IO.Directory.EnumerateDirectories(CgroupParent))
            {
                CgroupV2.KillAll(child);
                Eventually.Until(() => CgroupV2.IsEmpty(child), $"cgroup {child} to empty").GetAwaiter().GetResult();
                CgroupV2.TryRemove(child);
            }

            CgroupV2.TryRemove(CgroupParent);
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems).</summary>
    public static string? CgroupV2Mount() => File.ReadLines("/proc/self/mountinfo")
        .Select(l => (Left: l[..l.IndexOf(" - ", StringComparison.Ordinal)].Split(' '), Type: l[(l.IndexOf(" - ", StringComparison.Ordinal) + 3)..].Split(' ')[0]))
        .Where(m => m.Type == "cgroup2")
        .Select(m => m.Left[4])
        .FirstOrDefault();

    private string PidFile(string id) => Path.Combine(Directory, "workloads", id, "pid");
}
