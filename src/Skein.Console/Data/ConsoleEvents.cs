using System.Threading.Channels;

namespace Skein.Console.Data;

/// <summary>What the browser is told (server-sent events): a new block, or a round of a task that moved.</summary>
public sealed record ConsoleEvent(string Type, ulong? Task, uint? Round, ulong Height);

/// <summary>Fans the console's events out to every connected browser; a slow browser loses old events, never blocks the others.</summary>
public sealed class ConsoleEvents
{
    private readonly Lock _gate = new();
    private readonly List<Channel<ConsoleEvent>> _subscribers = [];

    public int Subscribers
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    public void Publish(ConsoleEvent e)
    {
        lock (_gate)
        {
            foreach (var s in _subscribers)
            {
                s.Writer.TryWrite(e);
            }
        }
    }

    public async IAsyncEnumerable<ConsoleEvent> SubscribeAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<ConsoleEvent>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }
        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
