using System.Collections.Concurrent;
using Grpc.Core;
using Skein.Protocol.V1;

namespace Skein.Node;

/// <summary>
/// A validator's fetch of one round's model and updates while the round's trainers still train: every update the
/// coordinator accepts is downloaded, checked against its hash and parsed as soon as it is announced, so that the
/// commit phase only scores. A cache, never a source of truth: what it lacks, or failed to fetch, is fetched again
/// when scoring asks for it.
/// </summary>
internal sealed class UpdatePrefetch : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<float[]>> _blobs = new(StringComparer.Ordinal);
    private readonly CoordinatorConnection _connection;
    private readonly Func<byte[], float[]> _parse;
    private readonly CancellationTokenSource _stop;
    private readonly Task _watching;

    public UpdatePrefetch(CoordinatorConnection connection, RoundEvent e, Func<byte[], float[]> parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        _connection = connection;
        _parse = parse;
        TaskId = e.TaskId;
        Round = e.Round;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _ = GetAsync(e.ModelSha256, CancellationToken.None);
        _watching = WatchAsync(_stop.Token);
    }

    public ulong TaskId { get; }

    public uint Round { get; }

    /// <summary>How many updates were announced, and their fetch started, before scoring asked for them.</summary>
    public int Prefetched { get; private set; }

    /// <summary>The parsed blob: from the cache if its fetch started and has not failed, fetched now otherwise.</summary>
    public Task<float[]> GetAsync(string sha256, CancellationToken cancellationToken)
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

    private async Task<float[]> FetchAsync(string sha256)
    {
        var bytes = await _connection.DownloadAsync(sha256, _stop.Token);
        return _parse(bytes);
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
    }
}
