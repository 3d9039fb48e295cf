using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Skein.Market.Tests.Akash;

/// <summary>A response the fake sends: status, JSON body, optional Retry-After; or a dropped connection.</summary>
internal sealed record FakeResponse(int Status, string Body, string? RetryAfter = null, bool Abort = false)
{
    public static readonly FakeResponse DroppedConnection = new(0, "", Abort: true);

    public static FakeResponse Fixture(string name, int status = 200, string? retryAfter = null) => new(status, Fixtures.Read(name), retryAfter);
}

/// <summary>One request as the fake received it.</summary>
internal sealed record RecordedRequest(string Method, string Path, string Query, string Body, string? ApiKey, string? ContentType);

/// <summary>The Console Managed Wallet API on 127.0.0.1: serves fixtures per route, checks <c>x-api-key</c>, records requests, fails on demand.</summary>
internal sealed class FakeConsoleApi : IAsyncDisposable
{
    /// <summary>A key in Console's format, "ac.sk.{env}.{64 hex}" (apps/api/src/auth/services/api-key/api-key-generator.service.ts).</summary>
    public const string ApiKey = "ac.sk.production.6f0c3d1e9b2a4c5d8e7f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5";

    private readonly ConcurrentDictionary<string, ConcurrentQueue<FakeResponse>> _routes = new();
    private readonly ConcurrentQueue<FakeResponse> _failures = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private WebApplication? _app;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<FakeConsoleApi> StartAsync(CancellationToken ct)
    {
        var fake = new FakeConsoleApi();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(fake.HandleAsync);
        await app.StartAsync(ct);
        fake._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.BaseUrl = new Uri(address + "/");
        return fake;
    }

    /// <summary>Answer <paramref name="method"/> <paramref name="path"/> with these responses in turn; the last one repeats.</summary>
    public FakeConsoleApi Serve(string method, string path, params FakeResponse[] responses)
    {
        _routes[Key(method, path)] = new ConcurrentQueue<FakeResponse>(responses);
        return this;
    }

    /// <summary>Answer the next <paramref name="times"/> authenticated requests, whatever they are, with <paramref name="response"/>.</summary>
    public FakeConsoleApi FailNext(int times, FakeResponse response)
    {
        for (var i = 0; i < times; i++)
        {
            _failures.Enqueue(response);
        }

        return this;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static string Key(string method, string path) => method.ToUpperInvariant() + " " + path;

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var key = context.Request.Headers["x-api-key"].FirstOrDefault();
        _requests.Enqueue(new RecordedRequest(
            context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", body, key, context.Request.ContentType));

        var response = key != ApiKey ? FakeResponse.Fixture("error-401.json", 401)
            : _failures.TryDequeue(out var failure) ? failure
            : Route(context.Request.Method, context.Request.Path.Value ?? "");
        if (response.Abort)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = response.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        if (response.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }

    private FakeResponse Route(string method, string path)
    {
        if (!_routes.TryGetValue(Key(method, path), out var queue))
        {
            return new FakeResponse(404, """{"error":"NotFoundError","message":"Not Found","code":"not_found","type":"client_error"}""");
        }

        // The last response stays, so a poll keeps seeing the final state.
        if (queue.Count > 1 && queue.TryDequeue(out var next))
        {
            return next;
        }

        return queue.TryPeek(out var last) ? last : new FakeResponse(500, """{"error":"InternalServerError","message":"no response"}""");
    }
}
