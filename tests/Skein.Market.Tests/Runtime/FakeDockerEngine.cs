using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skein.Market.Tests.Runtime;

/// <summary>
/// Just enough of the Docker Engine API for <see cref="Skein.Market.Runtime.DockerRuntime"/>: Kestrel on a unix
/// socket, an in-memory container table whose containers are real processes, and a record of every request.
/// Images "test/*" exist with the entrypoint /bin/sh -c; "pull/*" can be pulled; anything else cannot.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FakeDockerEngine : IAsyncDisposable
{
    private static readonly JsonArray ShEntrypoint = ["/bin/sh", "-c"];

    private readonly string _folder = Directory.CreateTempSubdirectory("skein-docker-").FullName;
    private readonly ConcurrentDictionary<string, FakeContainer> _containers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _pulled = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public string SocketPath => Path.Combine(_folder, "docker.sock");

    /// <summary>Every request as "METHOD /path?query", in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public IReadOnlyCollection<FakeContainer> Containers => [.. _containers.Values];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(SocketPath));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            await next(context);
        });
        var api = app.MapGroup("/{version}");
        api.MapGet("/_ping", () => Results.Text("OK"));
        api.MapGet("/info", () => Results.Json(new { NCPU = 2, MemTotal = 24L << 30, MemoryLimit = true, CpuCfsQuota = true, CPUSet = true, CgroupVersion = "2", ServerVersion = "fake-27.0" }));
        api.MapPost("/containers/create", CreateAsync);
        api.MapPost("/images/create", (string fromImage) => Pull(fromImage));
        api.MapGet("/containers/json", (string? filters) => List(filters));
        api.MapGet("/containers/{name}/json", (string name) => Find(name) is { } c ? Results.Json(Inspect(c)) : NoSuch(name));
        api.MapPost("/containers/{name}/start", (string name) => Start(name));
        api.MapPost("/containers/{name}/stop", async (string name, int? t) => Find(name) is not { } c ? NoSuch(name)
            : !c.Running ? Results.StatusCode(304) : await StopAsync(c, t ?? 10));
        api.MapGet("/containers/{name}/logs", (string name, HttpContext http) => LogsAsync(name, http));
        api.MapDelete("/containers/{name}", async (string name, string? force) => await DeleteAsync(name, force is "1" or "true"));
        await app.StartAsync();
        _app = app;
    }

    /// <summary>The create request the runtime sent for the container named <paramref name="name"/>.</summary>
    public JsonObject CreateRequestOf(string name) => Find(name)?.Create ?? throw new InvalidOperationException($"no container {name}");

    /// <summary>Kills a container's processes as an OOM kill or an operator would, without the runtime's knowledge.</summary>
    public async Task KillAsync(string name)
    {
        var c = Find(name) ?? throw new InvalidOperationException($"no container {name}");
        c.Kill();
        await c.Ended;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _containers.Values)
        {
            c.Kill();
            await Task.WhenAny(c.Ended, Task.Delay(TimeSpan.FromSeconds(10)));
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private async Task<IResult> CreateAsync(string name, HttpRequest request)
    {
        var body = (await JsonNode.ParseAsync(request.Body))!.AsObject();
        var image = body["Image"]!.GetValue<string>();
        if (!image.StartsWith("test/", StringComparison.Ordinal) && !_pulled.ContainsKey(image))
        {
            return NoSuch($"image: {image}");
        }

        if (Find(name) is not null)
        {
            return Results.Json(new { message = $"Conflict. The container name \"/{name}\" is already in use" }, statusCode: 409);
        }

        // The engine's rule: an entrypoint in the request drops the image's default cmd (these images have none).
        var entrypoint = body["Entrypoint"] as JsonArray ?? ShEntrypoint;
        var cmd = body["Cmd"] as JsonArray ?? [];
        var argv = entrypoint.Concat(cmd).Select(a => a!.GetValue<string>()).ToList();
        var id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        _containers[id] = new FakeContainer(id, name, body, argv);
        return Results.Json(new { Id = id, Warnings = Array.Empty<string>() }, statusCode: 201);
    }

    private IResult Pull(string image)
    {
        if (!image.StartsWith("pull/", StringComparison.Ordinal))
        {
            return Results.Json(new { message = $"pull access denied for {image}, repository does not exist" }, statusCode: 404);
        }

        _pulled[image] = true;
        return Results.Text($"{{\"status\":\"Pulling from {image}\"}}\n{{\"status\":\"Downloaded newer image for {image}\"}}\n", "application/json");
    }

    private IResult List(string? filters)
    {
        var labels = filters is null ? [] : JsonNode.Parse(filters)?["label"]?.AsArray().Select(l => l!.GetValue<string>()).ToArray() ?? [];
        var matching = _containers.Values.Where(c => labels.All(l => LabelsOf(c).ContainsKey(l.Split('=')[0])));
        return Results.Json(matching.Select(c => new { c.Id, Names = new[] { "/" + c.Name }, Labels = LabelsOf(c), State = c.Status }));
    }

    private IResult Start(string name)
    {
        if (Find(name) is not { } c)
        {
            return NoSuch(name);
        }

        if (c.Running)
        {
            return Results.StatusCode(304);
        }

        c.Start();
        return Results.NoContent();
    }

    private static async Task<IResult> StopAsync(FakeContainer c, int seconds)
    {
        await c.StopAsync(seconds);
        return Results.NoContent();
    }

    private async Task<IResult> DeleteAsync(string name, bool force)
    {
        if (Find(name) is not { } c)
        {
            return NoSuch(name);
        }

        if (c.Running && !force)
        {
            return Results.Json(new { message = "You cannot remove a running container. Stop the container before attempting removal or force remove" }, statusCode: 409);
        }

        c.Kill();
        await c.Ended;
        _containers.TryRemove(c.Id, out _);
        return Results.NoContent();
    }

    /// <summary>The multiplexed stream: per chunk, [stream, 0, 0, 0, size (big-endian)] and the bytes; followed until the container ends.</summary>
    private async Task LogsAsync(string name, HttpContext http)
    {
        if (Find(name) is not { } c)
        {
            await NoSuch(name).ExecuteAsync(http);
            return;
        }

        var follow = http.Request.Query["follow"] is ["1" or "true"];
        http.Response.ContentType = "application/vnd.docker.raw-stream";
        var sent = 0;
        var header = new byte[8];
        while (!http.RequestAborted.IsCancellationRequested)
        {
            var (frames, ended, changed) = c.Read(sent);
            foreach (var (stream, data) in frames)
            {
                header[0] = stream;
                BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)data.Length);
                await http.Response.Body.WriteAsync(header);
                await http.Response.Body.WriteAsync(data);
            }

            sent += frames.Count;
            await http.Response.Body.FlushAsync();
            if (!follow || ended)
            {
                return;
            }

            await Task.WhenAny(changed, Task.Delay(Timeout.Infinite, http.RequestAborted));
        }
    }

    private FakeContainer? Find(string name) =>
        _containers.TryGetValue(name, out var byId) ? byId : _containers.Values.FirstOrDefault(c => c.Name == name.TrimStart('/'));

    private static Dictionary<string, string> LabelsOf(FakeContainer c) =>
        c.Create["Labels"]?.AsObject().ToDictionary(l => l.Key, l => l.Value!.GetValue<string>()) ?? [];

    private static object Inspect(FakeContainer c) => new
    {
        c.Id,
        Name = "/" + c.Name,
        State = new
        {
            c.Status,
            c.Running,
            OOMKilled = false,
            c.ExitCode,
            Pid = c.Running ? c.Pid : 0,
            Error = string.Empty,
            StartedAt = (c.StartedAt ?? DateTimeOffset.MinValue).ToString("O"),
            FinishedAt = (c.FinishedAt ?? DateTimeOffset.MinValue).ToString("O"),
        },
        Config = new { Image = c.Create["Image"]?.GetValue<string>(), Env = c.Create["Env"], Labels = c.Create["Labels"] },
        HostConfig = c.Create["HostConfig"],
    };

    private static IResult NoSuch(string what) => Results.Json(new { message = $"No such container: {what}" }, statusCode: 404);
}
