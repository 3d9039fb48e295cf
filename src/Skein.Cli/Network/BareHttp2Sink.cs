using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Skein.Cli.Network;

/// <summary>
/// The baseline of <c>bench round</c>'s upload: a Kestrel endpoint on 127.0.0.1 that reads an HTTP/2 POST's body
/// and drops it, with the coordinator's HTTP/2 windows and frame size, so that only the transport is measured.
/// </summary>
public sealed class BareHttp2Sink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareHttp2Sink(WebApplication app, Uri uri)
    {
        _app = app;
        Uri = uri;
    }

    /// <summary>Where to POST.</summary>
    public Uri Uri { get; }

    public static async Task<BareHttp2Sink> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // As the coordinator's listener (CoordinatorHost): the same windows and frame size.
            k.Limits.Http2.InitialConnectionWindowSize = 32 << 20;
            k.Limits.Http2.InitialStreamWindowSize = 16 << 20;
            k.Limits.Http2.MaxFrameSize = 1 << 20;
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.MapPost("/sink", async (HttpContext context) =>
        {
            var reader = context.Request.BodyReader;
            long received = 0;
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                received += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            return Results.Ok(received);
        });
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareHttp2Sink(app, new Uri(new Uri(address), "/sink"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
