using System.Runtime.InteropServices;

namespace Skein.Learning;

/// <summary>
/// glibc's malloc, set for a small daemon: libtorch allocates from many threads, and by default each thread that
/// meets contention gets an arena of its own (up to eight per core) whose freed memory stays resident. Two arenas,
/// and the free memory handed back after each training or scoring job, hold a 2NN trainer to a third of its size
/// without slowing its training (docs/benchmarks.md, "Memory"). Linux with glibc only; elsewhere nothing.
/// </summary>
public static partial class NativeHeap
{
    private const int ArenaMax = -8; // M_ARENA_MAX

    /// <summary>Caps malloc's arenas; call first thing in a daemon, before its threads allocate much.</summary>
    public static void Configure()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallOpt(ArenaMax, 2);
            }
            catch (EntryPointNotFoundException)
            {
                // not glibc (musl has no arenas to cap)
            }
        }
    }

    /// <summary>
    /// Returns malloc's free memory to the system. Once per job, not per allocation: a low trim threshold (the
    /// environment's MALLOC_TRIM_THRESHOLD_) makes libtorch's training five times slower.
    /// </summary>
    public static void Trim()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (EntryPointNotFoundException)
            {
                // not glibc
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
