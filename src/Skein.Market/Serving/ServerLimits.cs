using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Skein.Market.Serving;

/// <summary>
/// What one client may ask of a Skein server (the coordinator's gRPC and JSON API, a provider's endpoint): how many
/// connections it may hold, how large a JSON body may be, how slowly it may send, and how many requests a second.
/// </summary>
/// <remarks>
/// The defaults let a thousand nodes work through one coordinator and stop a single client from holding every
/// connection, sending a gigabyte of JSON, or trickling headers forever. Clients on loopback are the operator's own
/// processes (the demo's nodes, the console): they are not rate limited unless <see cref="LimitLoopback"/> says so.
/// </remarks>
public sealed record ServerLimits
{
    /// <summary>Open connections the server holds at once, all clients together; more are closed as they arrive.</summary>
    public long MaxConnections { get; init; } = 4_096;

    /// <summary>Largest body of a JSON request (the API, the market's transactions, a provider's quotes and manifests); larger ones get 413.</summary>
    public long MaxJsonBodyBytes { get; init; } = 1 << 20;

    /// <summary>Largest gRPC message; an upload is a stream of 1 MiB chunks, so this bounds a chunk, not an update.</summary>
    public int MaxGrpcMessageBytes { get; init; } = 8 << 20;

    /// <summary>Time a client has to send its request headers once it connected (slow-header clients are cut off).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Idle time after which a kept-alive connection is closed.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Slowest body a client may send (bytes a second, after <see cref="MinBodyRateGrace"/>); slower ones are cut off.</summary>
    public double MinBodyBytesPerSecond { get; init; } = 1_024;

    public TimeSpan MinBodyRateGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Concurrent HTTP/2 streams (gRPC calls) on one connection.</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>Requests a second one client (one IP address) may make, on average; 0 turns rate limiting off.</summary>
    public int RequestsPerSecond { get; init; } = 200;

    /// <summary>Requests one client may make at once above the average before it is refused (the token bucket's size).</summary>
    public int Burst { get; init; } = 1_000;

    /// <summary>Rate-limit clients on loopback too (tests; a server behind a proxy on the same machine).</summary>
    public bool LimitLoopback { get; init; }

    public static ServerLimits Default { get; } = new();

    /// <summary>Null when usable, else the first problem, naming the setting.</summary>
    public string? Validate() =>
        MaxConnections < 1 ? $"max_connections: must be >= 1, got {MaxConnections}"
        : MaxJsonBodyBytes < 1_024 ? $"max_json_body_bytes: must be >= 1024, got {MaxJsonBodyBytes}"
        : MaxGrpcMessageBytes < 1 << 20 ? $"max_grpc_message_bytes: must be >= 1048576 (an upload chunk is 1 MiB), got {MaxGrpcMessageBytes}"
        : MinBodyRateGrace <= TimeSpan.FromSeconds(1) ? $"min_body_rate_grace: must be more than 1 s (Kestrel's rule), got {MinBodyRateGrace.TotalSeconds} s"
        : RequestsPerSecond < 0 ? $"requests_per_second: must be >= 0, got {RequestsPerSecond}"
        : RequestsPerSecond > 0 && Burst < 1 ? $"burst: must be >= 1, got {Burst}"
        : null;

    /// <summary>Applies the connection, header, keep-alive, body-rate and stream limits to Kestrel.</summary>
    public void ApplyTo(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Limits.MaxConcurrentConnections = MaxConnections;
        kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
        kestrel.Limits.KeepAliveTimeout = KeepAliveTimeout;
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(MinBodyBytesPerSecond, MinBodyRateGrace);
        kestrel.Limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
        // Bodies are bounded per endpoint (UseJsonBodyLimit): a gRPC upload streams up to the update limit.
        kestrel.Limits.MaxRequestBodySize = null;
    }

    /// <summary>Registers the per-client token bucket (<see cref="UseLimits"/> applies it).</summary>
    public void AddTo(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var address = context.Connection.RemoteIpAddress;
                if (RequestsPerSecond == 0 || (!LimitLoopback && (address is null || IPAddress.IsLoopback(address))))
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }
                return RateLimitPartition.GetTokenBucketLimiter(address!.ToString(), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Burst,
                    TokensPerPeriod = RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = (rejected, _) => Refuse(rejected.HttpContext, 429, ResourceExhausted, "rate_limited",
                string.Create(CultureInfo.InvariantCulture, $"rate: more than {RequestsPerSecond} requests a second (burst {Burst}) from {rejected.HttpContext.Connection.RemoteIpAddress}; retry after a second"));
        });
    }

    /// <summary>Adds the rate limiter and, on JSON endpoints (everything but gRPC), the body size limit.</summary>
    public void UseLimits(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        app.Use(async (context, next) =>
        {
            if (!IsGrpc(context.Request) && !IsStreaming(context.Request) && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
            {
                body.MaxRequestBodySize = MaxJsonBodyBytes;
                if (context.Request.ContentLength > MaxJsonBodyBytes)
                {
                    await Refuse(context, 413, 0, "too_large", string.Create(CultureInfo.InvariantCulture,
                        $"body: {context.Request.ContentLength} bytes is more than the {MaxJsonBodyBytes} this server takes in one request"));
                    return;
                }
            }
            try
            {
                await next(context);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == 413 && !context.Response.HasStarted)
            {
                // A chunked body that grew past the limit while being read.
                await Refuse(context, 413, 0, "too_large", $"body: more than the {MaxJsonBodyBytes} bytes this server takes in one request");
            }
        });
    }

    private const int ResourceExhausted = 8;

    /// <summary>
    /// A path under which request bodies are streams of their own limit (a coordinator's update uploads, bounded by
    /// the task's update size), exempt from <see cref="MaxJsonBodyBytes"/>; null: none.
    /// </summary>
    public string? StreamingPathPrefix { get; init; }

    private bool IsStreaming(HttpRequest request) => StreamingPathPrefix is { } prefix && request.Path.StartsWithSegments(prefix, StringComparison.Ordinal);

    private static bool IsGrpc(HttpRequest request) => request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;

    /// <summary>A refusal in the caller's protocol: a gRPC status (trailers-only) for gRPC calls, else the market API's JSON error with the HTTP status.</summary>
    private static ValueTask Refuse(HttpContext context, int status, int grpcStatus, string code, string message)
    {
        var response = context.Response;
        if (IsGrpc(context.Request) && grpcStatus != 0)
        {
            response.StatusCode = 200;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = grpcStatus.ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return ValueTask.CompletedTask;
        }
        response.StatusCode = status;
        if (status == 429)
        {
            response.Headers.RetryAfter = "1";
        }
        return new ValueTask(response.WriteAsJsonAsync(new Api.ApiError(code, message), Api.MarketJson.Options));
    }
}
