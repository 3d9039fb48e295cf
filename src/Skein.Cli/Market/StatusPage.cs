using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Skein.Cli.Market;

/// <summary>
/// The status page a templated node serves on SKEIN_STATUS_PORT (Akash refuses a deployment that exposes nothing):
/// its role, address and coordinator, never a secret. Loopback unless SKEIN_STATUS_HOST says otherwise (the image
/// sets 0.0.0.0, as a container must); port 0 or unset: no page.
/// </summary>
public sealed class StatusPage : IAsyncDisposable
{
    private readonly WebApplication? _app;

    private StatusPage(WebApplication? app) => _app = app;

    public static async Task<StatusPage> StartAsync(IReadOnlyDictionary<string, string> env, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (!env.TryGetValue("SKEIN_STATUS_PORT", out var text) || text.Length == 0 || text == "0")
        {
            return new StatusPage(null);
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"SKEIN_STATUS_PORT: must be a port in 1-65535 (or 0 for none), got '{text}'");
        }
        var host = env.TryGetValue("SKEIN_STATUS_HOST", out var h) && h.Length > 0 ? h : "127.0.0.1";
        if (!IPAddress.TryParse(host, out var address))
        {
            throw new ArgumentException($"SKEIN_STATUS_HOST: must be an IP address, got '{host}'");
        }
        string? nodeAddress = null;
        if (env.TryGetValue("SKEIN_KEY_JSON", out var key) && key.Length > 0)
        {
            try
            {
                nodeAddress = Skein.Ledger.Crypto.KeyFile.ReadAddress(key).ToString();
            }
            catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or Skein.Ledger.Crypto.KeyStoreException)
            {
                // the node itself will say what is wrong with its key
            }
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        var started = DateTimeOffset.UtcNow;
        app.MapGet("/", () => Results.Json(new
        {
            role = env.GetValueOrDefault("SKEIN_ROLE"),
            address = nodeAddress,
            coordinator = env.GetValueOrDefault("SKEIN_COORDINATOR"),
            task = env.GetValueOrDefault("SKEIN_TASK"),
            lease = env.GetValueOrDefault("SKEIN_LEASE"),
            up_seconds = Math.Round((DateTimeOffset.UtcNow - started).TotalSeconds, 1),
        }, JsonOutput.Options));
        await app.StartAsync(cancellationToken);
        return new StatusPage(app);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
