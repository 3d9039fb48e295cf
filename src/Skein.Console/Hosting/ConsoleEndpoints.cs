using System.Collections.Concurrent;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skein.Console.Data;

namespace Skein.Console.Hosting;

/// <summary>The console's endpoints besides its pages: live updates, the bundled scripts and styles, and model and update downloads.</summary>
public static class ConsoleEndpoints
{
    private static readonly ConcurrentDictionary<string, (byte[] Bytes, string ETag)?> Assets = new();

    public static IEndpointRouteBuilder MapConsoleEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/events", (ConsoleEvents events, CancellationToken ct) => TypedResults.ServerSentEvents(Stream(events, ct)));
        app.MapGet("/assets/{**path}", (string path, HttpContext http) => Asset(path, http));
        app.MapGet("/blobs/{hash}", async (string hash, ConsoleData data, CancellationToken ct) =>
        {
            var hex = hash.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hash[2..] : hash;
            if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
            {
                return Results.BadRequest("hash: must be 64 hexadecimal digits (a SHA-256)");
            }
            try
            {
                var bytes = await data.BlobAsync(hex, ct);
                return Results.File(bytes, "application/octet-stream", $"{hex.ToLowerInvariant()}.safetensors");
            }
            catch (HttpRequestException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return Results.NotFound($"no blob {hex} on the coordinator");
            }
        });
        app.MapGet("/healthz", () => Results.Text("ok"));
        return app;
    }

    private static async IAsyncEnumerable<SseItem<ConsoleEvent>> Stream(ConsoleEvents events, [EnumeratorCancellation] CancellationToken ct)
    {
        // A first event at once, so the browser knows the stream is live (the tests wait for it before acting).
        yield return new SseItem<ConsoleEvent>(new ConsoleEvent("hello", null, null, 0), "hello");
        await foreach (var e in events.SubscribeAsync(ct))
        {
            yield return new SseItem<ConsoleEvent>(e, e.Type);
        }
    }

    private static IResult Asset(string path, HttpContext http)
    {
        var asset = Assets.GetOrAdd(path, static p =>
        {
            using var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream("assets/" + p);
            if (stream is null)
            {
                return null;
            }
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return (bytes, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        });
        if (asset is not { } a)
        {
            return Results.NotFound();
        }
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = a.ETag;
        if (http.Request.Headers.IfNoneMatch == a.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        var type = Path.GetExtension(path) switch
        {
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Bytes(a.Bytes, type);
    }

    /// <summary>The bundled assets, for tests: every one the pages link to must be here.</summary>
    internal static IEnumerable<string> AssetNames() =>
        Assembly.GetExecutingAssembly().GetManifestResourceNames().Where(n => n.StartsWith("assets/", StringComparison.Ordinal)).Select(n => n["assets/".Length..]);
}
