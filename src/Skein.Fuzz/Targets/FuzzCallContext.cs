using Grpc.Core;

namespace Skein.Fuzz.Targets;

/// <summary>The server side of one gRPC call as a handler sees it, without a server: headers in, trailers and status out.</summary>
internal sealed class FuzzCallContext(Metadata headers, CancellationToken cancellationToken) : ServerCallContext
{
    private readonly Metadata _trailers = [];

    protected override string MethodCore => "fuzz";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => headers;

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore => _trailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}

/// <summary>A client stream of the given messages.</summary>
internal sealed class FuzzStreamReader<T>(IReadOnlyList<T> messages) : IAsyncStreamReader<T>
{
    private int _next = -1;

    public T Current => messages[_next];

    public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < messages.Count);
}

/// <summary>A server stream that keeps nothing: the handler's writes are counted, not sent.</summary>
internal sealed class FuzzStreamWriter<T> : IServerStreamWriter<T>
{
    public int Written { get; private set; }

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message)
    {
        Written++;
        return Task.CompletedTask;
    }
}
