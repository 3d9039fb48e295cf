using System.Collections.Concurrent;
using Grpc.Core;
using Skein.Protocol.V1;

namespace Skein.Node;

/// <summary>
/// A validator's fetch of one round's model and updates while the round's trainers still train: every update the
/// coordinator accepts is downloaded and checked against its hash as soon as it is announced, into a file of the
/// round's folder, so that the commit phase only scores, one update in memory at a time (<see cref="UpdateFiles"/>):
/// a validator's memory does not grow with the number of updates in a round. A cache, never a source of truth: what
/// it lacks, or failed to fetch, is fetched again when scoring asks for it; the folder goes with the prefetch.
/// </summary>
internal sealed class UpdatePrefetch : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<string>> _blobs = new(StringComparer.Ordinal);
    private readonly CoordinatorConnection _connection;
    private readonly CancellationTokenSource _stop;
    private readonly Task _watching;

    /// <summary>Starts fetching the round's model into <paramref name="folder"/> (emptied first), and with <paramref name="watch"/> every update as it is announced; without, only what <see cref="GetAsync"/> asks for.</summary>
    public UpdatePrefetch(CoordinatorConnection connection, RoundEvent e, string folder, CancellationToken cancellationToken, bool watch = true)
    {
        ArgumentNullException.ThrowIfNull(e);
        _connection = connection;
        Folder = folder;
        // Left by a process that died mid-round: a cache, so it starts empty.
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.CreateDirectory(folder);
        TaskId = e.TaskId;
        Round = e.Round;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _ = GetAsync(e.ModelSha256, CancellationToken.None);
        _watching = watch ? WatchAsync(_stop.Token) : Task.CompletedTask;
    }

    public ulong TaskId { get; }

    public uint Round { get; }

    /// <summary>Where the round's blobs are kept, one file per SHA-256.</summary>
    public string Folder { get; }

    /// <summary>How many updates were announced, and their fetch started, before scoring asked for them.</summary>
    public int Prefetched { get; private set; }

    /// <summary>The blob's file: from the cache if its fetch started and has not failed, fetched now otherwise.</summary>
    public Task<string> GetAsync(string sha256, CancellationToken cancellationToken)
    {
        var fetch = _blobs.GetOrAdd(sha256, FetchAsync);
        if (fetch.IsFaulted || fetch.IsCanceled)
        {
            // A fetch that died with a connection is tried again; a bad blob will fail the same way again and say so.
            fetch = FetchAsync(sha256);
            _blobs[sha256] = fetch;
        }
        return fetch.WaitAsync(cancellationToken);
    }

    private async Task<string> FetchAsync(string sha256)
    {
        // A blob's name is its checked SHA-256 (64 hex digits), never a path of the sender's choosing.
        var path = Path.Combine(Folder, Convert.ToHexStringLower(Convert.FromHexString(sha256)) + ".safetensors");
        await _connection.DownloadToFileAsync(sha256, path, _stop.Token);
        return path;
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var call = _connection.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = TaskId, Round = Round }, _connection.Auth, cancellationToken: cancellationToken);
            await foreach (var notice in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (!_blobs.ContainsKey(notice.Sha256))
                {
                    Prefetched++;
                    _ = GetAsync(notice.Sha256, CancellationToken.None);
                }
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or HttpRequestException)
        {
            // Best effort: a coordinator without this call, or a lost connection, leaves the work to the commit phase.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        // Fetches still under way end with the token; their outcome no longer matters.
        foreach (var fetch in _blobs.Values)
        {
            _ = fetch.ContinueWith(static t => t.Exception, TaskScheduler.Default);
        }
        _stop.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // a fetch cancelled a moment ago may still hold its partial file: the next round's prefetch clears it
        }
    }
}
