using System.Runtime.InteropServices;
using Skein.Learning;

namespace Skein.Node;

/// <summary>
/// Puts a node's compute (training, scoring) below its networking: a thread that trains for seconds must not
/// starve the threads that upload, download and answer the coordinator on the same cores.
/// </summary>
internal static partial class ComputePriority
{
    /// <summary>The nice value of compute threads (0 is the default, 19 the lowest).</summary>
    public const int Nice = 10;

    private const int PrioProcess = 0;

    /// <summary>
    /// Lowers the calling thread to <see cref="Nice"/>, never raises it. Only for a thread of its own (the node's compute runs on dedicated threads that
    /// end with the work): going back up needs a privilege a node does not have. Linux only; elsewhere nothing.
    /// </summary>
    public static void LowerCurrentThread()
    {
        // On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value; a thread already lower (a node
        // started with nice) stays where it is.
        if (OperatingSystem.IsLinux() && GetPriority(PrioProcess, GetThreadId()) < Nice)
        {
            _ = SetPriority(PrioProcess, GetThreadId(), Nice);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own lowered to <see cref="Nice"/>. What awaits the result goes on
    /// at normal priority: the continuation is queued to the pool rather than run inline on the lowered thread, where
    /// the upload that follows training would otherwise start.
    /// </summary>
    public static Task<T> RunLoweredAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Factory.StartNew(() =>
        {
            try
            {
                LowerCurrentThread();
                var result = work();
                // The job's tensors are freed now: hand malloc's free memory back before the node waits for the next one.
                NativeHeap.Trim();
                done.TrySetResult(result);
            }
            catch (OperationCanceledException ex) when (ex.CancellationToken == cancellationToken || cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ContinueWith(
            started => done.TrySetCanceled(cancellationToken),
            CancellationToken.None, TaskContinuationOptions.OnlyOnCanceled, TaskScheduler.Default);
        return done.Task;
    }

    /// <summary>The calling thread's nice value (Linux; 0 elsewhere).</summary>
    public static int CurrentNice() => OperatingSystem.IsLinux() ? GetPriority(PrioProcess, GetThreadId()) : 0;

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
