using System.Runtime.InteropServices;

namespace Skein.Market.Runtime;

/// <summary>kill(2): .NET can only SIGKILL a process it holds, and the process runtime must SIGTERM process groups it does not.</summary>
internal static partial class Signals
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Signals every process of group <paramref name="group"/>; false when there is none.</summary>
    public static bool ToGroup(int group, int signal) => group > 1 && Kill(-group, signal) == 0;

    public static bool ToProcess(int pid, int signal) => pid > 1 && Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
