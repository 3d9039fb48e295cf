using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Skein.Market.Runtime;

/// <summary>An engine answer: its status code and, for errors, the engine's message.</summary>
internal sealed record DockerReply(HttpStatusCode Status, string Body)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    /// <summary>The engine's {"message": ...}, else the raw body.</summary>
    public string Message
    {
        get
        {
            try
            {
                return JsonSerializer.Deserialize<DockerError>(Body, DockerJson.Options)?.Message ?? Body;
            }
            catch (JsonException)
            {
                return Body;
            }
        }
    }

    public T Read<T>() => JsonSerializer.Deserialize<T>(Body, DockerJson.Options) ?? throw new WorkloadRuntimeException($"the engine sent an empty {typeof(T).Name}", isTransient: true);
}

/// <summary>HTTP/1.1 to the Docker Engine API over its unix socket.</summary>
internal sealed class DockerEngineClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public DockerEngineClient(string socketPath, string apiVersion, TimeSpan timeout)
    {
        SocketPath = socketPath;
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };

        // The host name is never resolved (the socket is); timeouts are per call, since followed logs never end by themselves.
        _http = new HttpClient(handler) { BaseAddress = new Uri($"http://docker/v{apiVersion}/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }

    public Task<DockerReply> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, null, cancellationToken);

    public Task<DockerReply> PostAsync(string path, object? body, CancellationToken cancellationToken, TimeSpan? extraTime = null) =>
        SendAsync(HttpMethod.Post, path, body, extraTime, cancellationToken);

    public Task<DockerReply> DeleteAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, path, null, null, cancellationToken);

    /// <summary>Sends a request and reads the whole answer, within the request timeout plus <paramref name="extraTime"/>.</summary>
    public async Task<DockerReply> SendAsync(HttpMethod method, string path, object? body, TimeSpan? extraTime, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout + (extraTime ?? TimeSpan.Zero));
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType(), options: DockerJson.Options);
            }

            using var response = await _http.SendAsync(request, timeout.Token);
            return new DockerReply(response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new WorkloadRuntimeException($"the Docker engine at {SocketPath} did not answer {method} {path} in time", isTransient: true);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
    }

    /// <summary>Opens a streamed answer (logs, pulls); the caller reads and disposes it. Null with the reply when the engine refused.</summary>
    public async Task<(HttpResponseMessage? Response, DockerReply? Refusal)> OpenStreamAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(method, path);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return (response, null);
            }

            using (response)
            {
                return (null, new DockerReply(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)));
            }
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
    }

    // A missing socket file surfaces as "Cannot assign requested address"; say what it means instead.
    public WorkloadRuntimeException Unreachable(HttpRequestException e) => new(
        $"no Docker engine answers at {SocketPath}: {(File.Exists(SocketPath) ? e.InnerException?.Message ?? e.Message : "the socket does not exist")}",
        isTransient: true,
        e);

    public void Dispose() => _http.Dispose();
}
