using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;

namespace Skein.Market.Runtime;

/// <summary>
/// A workload's folder under the runtime's state folder: its log, its spec (0600: it holds the env), the pid and exit
/// code its wrapper writes, and work/, its working and home folder. The folder outlives the workload for its logs.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class WorkloadFolder(string stateDirectory, string id)
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Root { get; } = Path.Combine(stateDirectory, "workloads", id);

    public string Log => Path.Combine(Root, "output.log");

    public string Spec => Path.Combine(Root, "spec.json");

    public string PidFile => Path.Combine(Root, "pid");

    public string ExitCodeFile => Path.Combine(Root, "exit_code");

    public string Work => Path.Combine(Root, "work");

    /// <summary>Creates the folder (owner only) and clears what a previous run of the same id left, except its log.</summary>
    public void Prepare()
    {
        Directory.CreateDirectory(Root, OwnerOnlyDirectory);
        Directory.CreateDirectory(Work, OwnerOnlyDirectory);
        File.Delete(PidFile);
        File.Delete(ExitCodeFile);

        // The wrapper only appends; creating the log here gives it the owner-only mode (a workload may print secrets).
        using var log = new FileStream(Log, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile });
    }

    /// <summary>Writes the spec, env included, readable by the owner only: a restarted provider needs it to restart the workload.</summary>
    public void WriteSpec(WorkloadSpec spec)
    {
        var temp = Spec + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile };
        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, spec, Json);
        }

        // UnixCreateMode only applies to new files; a leftover temp file keeps its mode unless set again.
        File.SetUnixFileMode(temp, OwnerOnlyFile);
        File.Move(temp, Spec, overwrite: true);
    }

    public WorkloadSpec? ReadSpec() => File.Exists(Spec) ? JsonSerializer.Deserialize<WorkloadSpec>(File.ReadAllText(Spec), Json) : null;

    /// <summary>The wrapper's pid, once it has written it.</summary>
    public int? ReadPid() => ReadInt(PidFile);

    /// <summary>The workload's exit code, written by its wrapper when it ended (absent when the wrapper itself was killed).</summary>
    public int? ReadExitCode() => ReadInt(ExitCodeFile);

    /// <summary>When the exit code was written: when the workload ended.</summary>
    public DateTimeOffset? ExitTime() => File.Exists(ExitCodeFile) ? new DateTimeOffset(File.GetLastWriteTimeUtc(ExitCodeFile), TimeSpan.Zero) : null;

    private static int? ReadInt(string file)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
