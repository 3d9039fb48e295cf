using System.Collections.Concurrent;
using System.Threading.Channels;
using Skein.Protocol.V1;

namespace Skein.Coordinator;

/// <summary>
/// Fans round events out to every node watching a task, and wakes the task's round engine when something it
/// waits for (a submission, a commit, a reveal) may have happened.
/// </summary>
public sealed class RoundEvents
{
    private readonly ConcurrentDictionary<ulong, ConcurrentDictionary<Guid, Channel<RoundEvent>>> _watchers = new();
    private readonly ConcurrentDictionary<ulong, SemaphoreSlim> _nudges = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _changes = new();

    public IAsyncEnumerable<RoundEvent> WatchAsync(ulong taskId, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<RoundEvent>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
        var id = Guid.NewGuid();
        var watchers = _watchers.GetOrAdd(taskId, _ => new());
        watchers[id] = channel;
        cancellationToken.Register(() =>
        {
            watchers.TryRemove(id, out _);
            channel.Writer.TryComplete();
        });
        return channel.Reader.ReadAllAsync(cancellationToken);
    }

    public void Publish(RoundEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Changed(e.TaskId);
        if (_watchers.TryGetValue(e.TaskId, out var watchers))
        {
            foreach (var channel in watchers.Values)
            {
                channel.Writer.TryWrite(e);
            }
        }
    }

    /// <summary>Signals the round engine of <paramref name="taskId"/> to look at the ledger again.</summary>
    public void Nudge(ulong taskId)
    {
        Changed(taskId);
        var s = _nudges.GetOrAdd(taskId, _ => new SemaphoreSlim(0));
        if (s.CurrentCount == 0)
        {
            s.Release();
        }
    }

    /// <summary>
    /// Completes at the next nudge or published event of <paramref name="taskId"/>, for any number of waiters (the engine's own wait
    /// takes one nudge each). Take it before reading the ledger, so that a change between the read and the wait is
    /// not missed.
    /// </summary>
    public Task NextChange(ulong taskId) =>
        _changes.GetOrAdd(taskId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void Changed(ulong taskId)
    {
        if (_changes.TryRemove(taskId, out var changed))
        {
            changed.TrySetResult();
        }
    }

    /// <summary>Waits for a nudge or the timeout, whichever comes first.</summary>
    public Task WaitAsync(ulong taskId, TimeSpan timeout, CancellationToken cancellationToken) =>
        _nudges.GetOrAdd(taskId, _ => new SemaphoreSlim(0)).WaitAsync(timeout, cancellationToken);
}
