using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Api;

namespace Skein.Market.Provider;

/// <summary>
/// A running provider: its HTTP endpoint (status, quotes, manifests, lease status and logs; Akash's provider
/// serves the same over its own gateway) and the agent's loop. Binds to loopback unless told otherwise.
/// </summary>
public sealed class ProviderHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    private ProviderHost(WebApplication app, ProviderAgent agent, Uri uri)
    {
        _app = app;
        Agent = agent;
        Uri = uri;
    }

    public ProviderAgent Agent { get; }

    /// <summary>Where the endpoint answers.</summary>
    public Uri Uri { get; }

    /// <summary>The agent's loop; it completes when the host stops.</summary>
    public Task Loop => _loop ?? Task.CompletedTask;

    /// <summary>Starts the endpoint, then the agent (register, adopt, bid, run) in the background.</summary>
    public static async Task<ProviderHost> StartAsync(ProviderAgent agent, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(loggers);
        var clock = time ?? TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        var limits = agent.Options.Limits;
        limits.AddTo(builder.Services);
        builder.WebHost.ConfigureKestrel(k =>
        {
            limits.ApplyTo(k);
            k.Listen(IPAddress.Parse(agent.Options.Host), agent.Options.Port, l => l.Protocols = HttpProtocols.Http1AndHttp2);
        });
        var app = builder.Build();
        limits.UseLimits(app);
        Map(app, agent, clock);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new ProviderHost(app, agent, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/"));
        await agent.RegisterAsync(host.Uri, cancellationToken);
        host._loop = Task.Run(() => agent.RunAsync(host.Uri, host._stopping.Token), CancellationToken.None);
        return host;
    }

    private static void Map(WebApplication app, ProviderAgent agent, TimeProvider time)
    {
        app.MapGet("/status", async (CancellationToken ct) => Ok(await agent.StatusAsync(ct)));
        app.MapPost("/quote", async (HttpRequest request, CancellationToken ct) =>
        {
            QuoteRequest? quote;
            try
            {
                quote = await request.ReadFromJsonAsync<QuoteRequest>(MarketJson.Options, ct);
            }
            catch (System.Text.Json.JsonException ex)
            {
                return Fail(400, "invalid_request", $"body: not a quote request ({ex.Message})");
            }
            if (quote?.Spec is null || quote.Ceiling is null)
            {
                return Fail(400, "invalid_request", "body: spec and ceiling are required");
            }
            var rules = (await agent.StatusRulesAsync(ct));
            UInt128 ceiling;
            try
            {
                ceiling = MarketApiMapping.Units(rules, quote.Ceiling, "ceiling");
            }
            catch (LedgerException ex)
            {
                return Fail(400, "invalid_request", ex.Message);
            }
            var d = await agent.DecideAsync(quote.Spec, ceiling, ct);
            return Ok(new QuoteView(d.Bid && d.Kind == NoBidKind.None, d.Price is { } p ? MarketApiMapping.Coin(rules, p) : null,
                System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(d.Kind.ToString()), d.Reason, d.GpuModels));
        });
        app.MapPut("/deployment/{owner}/{dseq}/manifest", async (string owner, string dseq, HttpRequest request, CancellationToken ct) =>
        {
            if (!Address.TryParse(owner, out var o, out _) || !ulong.TryParse(dseq, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d))
            {
                return Fail(400, "invalid_parameter", "owner and dseq: an address and a positive integer");
            }
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(ct);
            if (!TenantProof.TryVerify(request.Headers[TenantProof.Header], agent.ChainId, agent.Address, "PUT", request.Path, Encoding.UTF8.GetBytes(body), time.GetUtcNow(),
                    out var tenant, out var reason))
            {
                return Fail(401, "unauthorized", reason);
            }
            var outcome = await agent.AcceptManifestAsync(new DeploymentId(o, d), body, tenant, ct);
            return outcome.Accepted ? Ok(outcome.Services) : Fail(outcome.Status, outcome.Error!, outcome.Message);
        });
        app.MapGet("/lease/{owner}/{dseq}/{gseq}/{oseq}/status", async (string owner, ulong dseq, uint gseq, uint oseq, CancellationToken ct) =>
            Address.TryParse(owner, out var o, out _)
                ? Ok(await agent.LeaseStatusAsync(new LeaseId(o, dseq, gseq, oseq, agent.Address), ct))
                : Fail(400, "invalid_parameter", $"owner: '{owner}' is not an address"));
        app.MapGet("/lease/{owner}/{dseq}/{gseq}/{oseq}/logs", async (string owner, ulong dseq, uint gseq, uint oseq, bool? follow, HttpContext http) =>
        {
            var ct = http.RequestAborted;
            if (!Address.TryParse(owner, out var o, out _))
            {
                await Fail(400, "invalid_parameter", $"owner: '{owner}' is not an address").ExecuteAsync(http);
                return;
            }
            if (!TenantProof.TryVerify(http.Request.Headers[TenantProof.Header], agent.ChainId, agent.Address, "GET", http.Request.Path, [], time.GetUtcNow(), out var tenant, out var reason)
                || tenant != o)
            {
                await Fail(401, "unauthorized", reason.Length > 0 ? reason : $"logs: only the owner {o} may read this lease's logs").ExecuteAsync(http);
                return;
            }
            http.Response.ContentType = "text/plain; charset=utf-8";
            await foreach (var line in agent.LogsAsync(new LeaseId(o, dseq, gseq, oseq, agent.Address), follow ?? false, ct))
            {
                await http.Response.WriteAsync(line + "\n", ct);
                await http.Response.Body.FlushAsync(ct);
            }
        });
    }

    private static IResult Ok<T>(T value) => Results.Json(new ApiEnvelope<T>(value), MarketJson.Options);

    private static IResult Fail(int status, string error, string message) => Results.Json(new ApiError(error, message), MarketJson.Options, statusCode: status);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Loop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // stopping anyway
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
