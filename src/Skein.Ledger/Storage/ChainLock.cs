namespace Skein.Ledger.Storage;

/// <summary>
/// The one process that may write an embedded chain: a coordinator holds it while it runs, and a command that sends a
/// transaction to the chain file holds it while it sends. A second writer would seal its own blocks beside the
/// first's and fork the chain, so it is refused instead. The operating system releases the lock when its process
/// dies, so a killed coordinator never leaves its chain locked.
/// </summary>
public sealed class ChainLock : IDisposable
{
    private readonly FileStream _file;

    private ChainLock(FileStream file) => _file = file;

    /// <summary>Takes the lock of the chain at <paramref name="chainPath"/>, or refuses with <see cref="LedgerError.ChainInUse"/> naming it.</summary>
    public static ChainLock Acquire(string chainPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(chainPath);
        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Unix and a share lock on Windows: either way one holder.
            return new ChainLock(new FileStream(chainPath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex)
        {
            throw new LedgerException(LedgerError.ChainInUse,
                $"ledger: {chainPath} is being written by another process (a running coordinator?); send through its API, or stop it first ({ex.Message})");
        }
    }

    public void Dispose() => _file.Dispose();
}
