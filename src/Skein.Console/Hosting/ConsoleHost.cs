using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Skein.Console.Components;
using Skein.Console.Data;
using Skein.Ledger.Crypto;

namespace Skein.Console.Hosting;

/// <summary>
/// A running console: Kestrel on loopback serving the pages (Blazor static server rendering), the live-update stream,
/// the bundled scripts and styles, and a feed that watches the network. It keeps no state of its own: everything it
/// shows is read from the coordinator's and the market's APIs, so it can be stopped and started at will.
/// </summary>
public sealed class ConsoleHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly Task _feed;

    private ConsoleHost(WebApplication app, Uri uri, Task feed, CancellationTokenSource stopping)
    {
        _app = app;
        Uri = uri;
        _feed = feed;
        _stopping = stopping;
    }

    /// <summary>The console's address (open it in a browser).</summary>
    public Uri Uri { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ConsoleHost> StartAsync(ConsoleOptions options, LedgerKey? key, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ConsoleData>();
        builder.Services.AddSingleton<ConsoleEvents>();
        builder.Services.AddSingleton(sp => new ConsoleActions(sp.GetRequiredService<ConsoleData>(), key));
        builder.Services.AddSingleton(sp => new ConsoleFeed(sp.GetRequiredService<ConsoleData>(), sp.GetRequiredService<ConsoleEvents>(), loggers.CreateLogger("skein.console")));
        // Deploy jobs run in the background for the deploy form; the container disposes them (stopping their top-ups) with the console.
        builder.Services.AddSingleton(sp => new DeployJobs(sp.GetRequiredService<ConsoleData>(), sp.GetRequiredService<ConsoleActions>(), sp.GetRequiredService<ConsoleEvents>(),
            TimeProvider.System, loggers.CreateLogger("skein.console.deploy")));
        builder.Services.AddRazorComponents();
        // Form tokens need keys only for the console's lifetime; nothing is written to the user's home folder.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddAntiforgery();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(options.Host), options.Port));

        var app = builder.Build();
        app.Use(SecurityHeaders);
        app.UseAntiforgery();
        app.MapConsoleEndpoints();
        app.MapRazorComponents<App>();
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var stopping = new CancellationTokenSource();
        var feed = app.Services.GetRequiredService<ConsoleFeed>();
        var run = Task.Run(() => feed.RunAsync(stopping.Token), CancellationToken.None);
        return new ConsoleHost(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/"), run, stopping);
    }

    /// <summary>No framing by other sites (clickjacking), no sniffing, and scripts and styles from this origin only.</summary>
    private static Task SecurityHeaders(Microsoft.AspNetCore.Http.HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'";
        return next();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _feed;
        }
        catch (OperationCanceledException)
        {
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
