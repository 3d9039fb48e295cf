using System.Diagnostics;

namespace Skein.Simulation;

/// <summary>The process's peak resident memory (VmHWM on Linux), native allocations such as libtorch's included.</summary>
internal static class PeakMemory
{
    public static long Bytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
