using TorchSharp;

namespace Skein.Learning.Training;

/// <summary>Raised when libtorch cannot be loaded; the message says what to check.</summary>
public sealed class TorchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// One-time process setup of libtorch: one intra-op thread, because Skein parallelises across clients
/// (several single-threaded models train at once), which both scales better for small batches and keeps
/// every client's result independent of scheduling.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _initialized;

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }
            try
            {
                torch.set_num_threads(1);
                torch.set_num_interop_threads(1);
            }
            catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new TorchUnavailableException(
                    "libtorch could not be loaded: " + (ex.InnerException?.Message ?? ex.Message) +
                    ". Rebuild with `./skein` (its build step adapts libLibTorchSharp.so to this system's libstdc++).", ex);
            }
            _initialized = true;
        }
    }
}
