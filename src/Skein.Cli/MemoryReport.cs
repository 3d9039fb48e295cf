using System.Text.Json;

namespace Skein.Cli;

/// <summary>
/// With <c>SKEIN_MEMORY_REPORT=FILE</c>, the process writes its runtime's own memory counters to FILE twice a second
/// (replaced whole, so a reader never sees half of it): what <c>skein bench memory</c> splits a process's memory by.
/// </summary>
public static class MemoryReport
{
    public const string Variable = "SKEIN_MEMORY_REPORT";

    /// <summary>Starts the writer if the variable names a file; the timer lives as long as the process.</summary>
    public static IDisposable? StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } file)
        {
            return null;
        }
        return new Timer(_ => Write(file), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
    }

    private static void Write(string file)
    {
        try
        {
            var gc = GC.GetGCMemoryInfo();
            var snapshot = new
            {
                gc_heap_bytes = gc.HeapSizeBytes,
                gc_committed_bytes = gc.TotalCommittedBytes,
                gc_fragmented_bytes = gc.FragmentedBytes,
                allocated_bytes = GC.GetTotalAllocatedBytes(),
                threads = System.Diagnostics.Process.GetCurrentProcess().Threads.Count,
                gc_collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
            };
            var temp = file + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(snapshot));
            File.Move(temp, file, overwrite: true);
        }
        catch (IOException)
        {
            // the reader's folder went away (the bench ended): nothing to report to
        }
    }
}
