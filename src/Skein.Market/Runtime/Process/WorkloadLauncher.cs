using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;

namespace Skein.Market.Runtime;

/// <summary>
/// Builds the command line that starts a workload detached from the provider:
/// <c>setsid --fork [taskset -c CORES] /bin/sh -c WRAPPER skein-workload FOLDER CGROUP argv...</c>.
/// setsid --fork puts it in a session and process group of its own whose parent is init, so a SIGKILLed provider
/// takes nothing with it; the wrapper shell stays the workload's parent to record its exit code.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class WorkloadLauncher
{
    /// <summary>
    /// The wrapper, run by /bin/sh with $1 the folder, $2 the cgroups to join (colon-separated: the v2 one and the v1
    /// limit folders; or empty) and the workload's argv after them.
    /// In order: stdio to the log (stdin from /dev/null); join the cgroups before anything else runs, so every
    /// descendant is in it; publish the pid atomically; run the workload in the foreground. TERM, INT and HUP get a
    /// no-op trap: a trapped signal waits until the foreground command ends (POSIX), so a group-wide SIGTERM reaches
    /// the workload while the wrapper lives on to write its exit code, again atomically. Trapped (not ignored)
    /// signals are reset on exec, so the workload itself sees them with their default action.
    /// </summary>
    public const string Wrapper = """
        dir=$1; cg=$2; shift 2
        exec </dev/null >>"$dir/output.log" 2>&1
        IFS=:; for c in $cg; do echo $$ >"$c/cgroup.procs" || echo "skein: could not join cgroup $c"; done; unset IFS
        echo $$ >"$dir/pid.tmp" && mv -f "$dir/pid.tmp" "$dir/pid"
        trap : TERM INT HUP
        "$@"
        code=$?
        echo $code >"$dir/exit_code.tmp" && mv -f "$dir/exit_code.tmp" "$dir/exit_code"
        exit $code
        """;

    public static ProcessStartInfo StartInfo(
        string setsid,
        string? taskset,
        IReadOnlyList<int> cores,
        WorkloadFolder folder,
        string? cgroup,
        IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(setsid) { UseShellExecute = false, WorkingDirectory = folder.Work };
        psi.ArgumentList.Add("--fork");
        if (taskset is not null && cores.Count > 0)
        {
            psi.ArgumentList.Add(taskset);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(SlotPool.Format(cores));
        }

        foreach (var arg in (string[])["/bin/sh", "-c", Wrapper, "skein-workload", folder.Root, cgroup ?? string.Empty, .. argv])
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Clear();
        foreach (var (key, value) in env)
        {
            psi.Environment[key] = value;
        }

        return psi;
    }

    /// <summary>
    /// The workload's environment: the few inherited variables, HOME (its work folder), the spec's env, then what the runtime sets. The GC heap
    /// limit is set for .NET workloads whenever memory is limited: the heap is not the whole process (runtime, JIT,
    /// native libraries such as libtorch and thread stacks live outside it), so it gets three quarters and the rest is
    /// headroom. Under an enforced memory.max .NET picks that same 75% by itself; set explicitly it also holds where the
    /// cgroup limit is not enforced, as the only bound there is, and a value the tenant set wins.
    /// </summary>
    public static Dictionary<string, string> Environment(
        IReadOnlyList<string> inherited,
        WorkloadSpec spec,
        ResolvedImage image,
        IReadOnlyList<int> gpus,
        string home)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in inherited)
        {
            if (System.Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }

        env["HOME"] = home;

        foreach (var (key, value) in spec.Env)
        {
            env[key] = value;
        }

        env["SKEIN_WORKLOAD_ID"] = spec.Id;
        env["CUDA_VISIBLE_DEVICES"] = SlotPool.Format(gpus);
        if (image.IsDotNet && spec.Resources.MemoryBytes > 0 && !spec.Env.ContainsKey("DOTNET_GCHeapHardLimit"))
        {
            // The value is read as hexadecimal.
            env["DOTNET_GCHeapHardLimit"] = "0x" + (spec.Resources.MemoryBytes / 4 * 3).ToString("X", CultureInfo.InvariantCulture);
        }

        return env;
    }
}
