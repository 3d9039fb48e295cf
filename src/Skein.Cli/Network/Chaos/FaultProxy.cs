using System.Net;
using System.Net.Sockets;
using Skein.Core;

namespace Skein.Cli.Network.Chaos;

/// <summary>How often and how hard a <see cref="FaultProxy"/> hurts the connections it carries; all probabilities in [0, 1].</summary>
public sealed record FaultProxyOptions
{
    /// <summary>Chance that one forwarded chunk (one read, either direction) is held back before it goes on.</summary>
    public double DelayProbability { get; init; } = 0.02;

    /// <summary>The longest hold of one chunk; each delayed chunk waits a uniform 1 ms to this.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Chance that a new connection is reset (RST) at a random moment within <see cref="FaultWindow"/>.</summary>
    public double ResetProbability { get; init; } = 0.15;

    /// <summary>Chance that a new connection is closed after a random number of bytes in one direction, in the middle of whatever message that is.</summary>
    public double CutProbability { get; init; } = 0.15;

    /// <summary>A cut falls after 1 to this many bytes of the chosen direction.</summary>
    public int MaxCutBytes { get; init; } = 4 << 20;

    /// <summary>When a reset falls: a uniform moment between 0 and this after the connection opened.</summary>
    public TimeSpan FaultWindow { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The options that inject nothing: a plain forwarder.</summary>
    public static FaultProxyOptions None { get; } = new() { DelayProbability = 0, ResetProbability = 0, CutProbability = 0 };

    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        foreach (var (name, p) in new[] { ("delay", DelayProbability), ("reset", ResetProbability), ("cut", CutProbability) })
        {
            if (!(p is >= 0 and <= 1))
            {
                e.Add($"{name} probability must be in [0, 1], got {p}");
            }
        }
        if (ResetProbability + CutProbability > 1)
        {
            e.Add("reset and cut probabilities must add up to at most 1 (a connection gets one of them at most)");
        }
        if (MaxDelay <= TimeSpan.Zero || FaultWindow <= TimeSpan.Zero || MaxCutBytes < 1)
        {
            e.Add("max delay, fault window and max cut bytes must be positive");
        }
        return e;
    }
}

/// <summary>What a <see cref="FaultProxy"/> has done so far.</summary>
public sealed record FaultProxyCounts(long Connections, long DelayedChunks, long DelayMilliseconds, long Resets, long Cuts, long UpstreamRefused, long BytesForwarded);

/// <summary>
/// A loopback TCP proxy that forwards bytes to one upstream port and, from a seeded generator, adds latency to
/// chunks, resets connections and closes them after k bytes of one direction. It works below any protocol, so an
/// HTTP/2 gRPC connection sees exactly what a flaky network would do to it: stalls, RSTs, frames cut in half.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private const int BufferBytes = 64 * 1024;
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly FaultProxyOptions _options;
    private readonly DeterministicRandom _random;
    // Chunks come in whatever order the threads read them: their draws get a generator of their own, so that the
    // fate of the n-th connection depends only on the seed.
    private readonly DeterministicRandom _chunks;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly List<string> _fates = [];
    private readonly Task _accepting;
    private long _connectionCount, _delayed, _delayMs, _resets, _cuts, _refused, _bytes, _pendingDelays;
    private volatile bool _faultsEnabled = true;

    private FaultProxy(IPEndPoint upstream, FaultProxyOptions options, ulong seed, TimeProvider time)
    {
        _upstream = upstream;
        _options = options;
        _random = DeterministicRandom.Derive(seed, "chaos/proxy");
        _chunks = DeterministicRandom.Derive(seed, "chaos/proxy/chunks");
        _time = time;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Starts a proxy on a free loopback port that forwards to 127.0.0.1:<paramref name="upstreamPort"/>.</summary>
    public static FaultProxy Start(int upstreamPort, FaultProxyOptions options, ulong seed, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }
        return new FaultProxy(new IPEndPoint(IPAddress.Loopback, upstreamPort), options, seed, time ?? TimeProvider.System);
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>The proxy as an http URL (plain HTTP/2, as the coordinator serves on loopback).</summary>
    public Uri Uri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Off: new connections and chunks pass untouched (connections already doomed keep their fate).</summary>
    public bool FaultsEnabled
    {
        get => _faultsEnabled;
        set => _faultsEnabled = value;
    }

    /// <summary>Chunks held back right now; lets a test with a fake clock know a delay has begun before it advances time.</summary>
    public long PendingDelays => Interlocked.Read(ref _pendingDelays);

    /// <summary>The fate drawn for each connection so far, in the order they were accepted.</summary>
    public IReadOnlyList<string> ConnectionFates
    {
        get
        {
            lock (_fates)
            {
                return [.. _fates];
            }
        }
    }

    public FaultProxyCounts Counts => new(Interlocked.Read(ref _connectionCount), Interlocked.Read(ref _delayed), Interlocked.Read(ref _delayMs),
        Interlocked.Read(ref _resets), Interlocked.Read(ref _cuts), Interlocked.Read(ref _refused), Interlocked.Read(ref _bytes));

    /// <summary>What a connection will suffer, drawn when it opens.</summary>
    private sealed record Plan(TimeSpan? ResetAfter, long? CutAfterBytes, bool CutUpstream);

    private Plan Draw()
    {
        lock (_random)
        {
            var roll = _random.NextDouble();
            // One draw for the fate and one for its parameter, always, so that the sequence of fates does not depend
            // on whether faults were on for earlier connections.
            var parameter = _random.NextDouble();
            var direction = _random.NextInt(2) == 0;
            if (!_faultsEnabled)
            {
                return new Plan(null, null, false);
            }
            if (roll < _options.ResetProbability)
            {
                return new Plan(_options.FaultWindow * parameter, null, false);
            }
            if (roll < _options.ResetProbability + _options.CutProbability)
            {
                return new Plan(null, 1 + (long)(parameter * (_options.MaxCutBytes - 1)), direction);
            }
            return new Plan(null, null, false);
        }
    }

    /// <summary>The hold for the next chunk, or zero.</summary>
    private TimeSpan NextDelay()
    {
        lock (_chunks)
        {
            var roll = _chunks.NextDouble();
            var length = _chunks.NextDouble();
            return _faultsEnabled && roll < _options.DelayProbability
                ? TimeSpan.FromMilliseconds(1 + (length * (_options.MaxDelay.TotalMilliseconds - 1)))
                : TimeSpan.Zero;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _connectionCount);
            var plan = Draw();
            lock (_fates)
            {
                _fates.Add(plan switch
                {
                    { ResetAfter: { } after } => $"reset after {after.TotalMilliseconds:0} ms",
                    { CutAfterBytes: { } k } => $"cut after {k} bytes {(plan.CutUpstream ? "up" : "down")}",
                    _ => "none",
                });
            }
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(Task.Run(() => CarryAsync(client, plan)));
            }
        }
    }

    private async Task CarryAsync(Socket client, Plan plan)
    {
        using var _ = client;
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_upstream, _stop.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // The upstream is down (a coordinator being restarted): the client sees its connection closed, as it would.
            Interlocked.Increment(ref _refused);
            Reset(client);
            return;
        }
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var cutBudget = plan.CutAfterBytes is { } k ? new long[] { k } : null;
        var up = PumpAsync(client, upstream, plan.CutUpstream ? cutBudget : null, connection.Token);
        var down = PumpAsync(upstream, client, plan.CutUpstream ? null : cutBudget, connection.Token);
        var reset = plan.ResetAfter is { } after ? Task.Delay(after, _time, connection.Token) : Task.Delay(Timeout.Infinite, connection.Token);
        var first = await Task.WhenAny(up, down, reset);
        if (first == reset && reset.IsCompletedSuccessfully)
        {
            Interlocked.Increment(ref _resets);
            Reset(client);
            Reset(upstream);
        }
        else if ((first == up || first == down) && await (Task<PumpEnd>)first == PumpEnd.Cut)
        {
            Interlocked.Increment(ref _cuts);
            // A cut is a close in the middle of a message, not an RST: the reader sees a short stream and a FIN.
            Close(client);
            Close(upstream);
        }
        else
        {
            // One side finished: pass its end on, give the other side a moment to finish too, then tear down.
            Close(first == up ? upstream : client, SocketShutdown.Send);
            await Task.WhenAny(Task.WhenAll(up, down), Task.Delay(TimeSpan.FromSeconds(5), _time, CancellationToken.None));
        }
        await connection.CancelAsync();
        await Task.WhenAll(up, down).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private enum PumpEnd
    {
        Closed,
        Cut,
    }

    private async Task<PumpEnd> PumpAsync(Socket from, Socket to, long[]? cutBudget, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferBytes];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    return PumpEnd.Closed;
                }
                if (NextDelay() is { Ticks: > 0 } hold)
                {
                    Interlocked.Increment(ref _delayed);
                    Interlocked.Add(ref _delayMs, (long)hold.TotalMilliseconds);
                    Interlocked.Increment(ref _pendingDelays);
                    try
                    {
                        await Task.Delay(hold, _time, cancellationToken);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _pendingDelays);
                    }
                }
                var send = n;
                var cut = false;
                if (cutBudget is not null && cutBudget[0] <= n)
                {
                    send = (int)cutBudget[0];
                    cut = true;
                }
                else if (cutBudget is not null)
                {
                    cutBudget[0] -= n;
                }
                var sent = 0;
                while (sent < send)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, send - sent), SocketFlags.None, cancellationToken);
                }
                Interlocked.Add(ref _bytes, send);
                if (cut)
                {
                    return PumpEnd.Cut;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return PumpEnd.Closed;
        }
    }

    /// <summary>An abortive close: linger 0 makes the kernel send RST instead of FIN.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }

    private static void Close(Socket socket, SocketShutdown how = SocketShutdown.Both)
    {
        try
        {
            socket.Shutdown(how);
            if (how == SocketShutdown.Both)
            {
                socket.Close();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }
        await Task.WhenAny(Task.WhenAll(open), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        _stop.Dispose();
    }
}
