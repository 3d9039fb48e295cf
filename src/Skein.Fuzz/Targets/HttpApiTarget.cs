using System.Net;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Skein.Coordinator.Api;
using Skein.Core;
using Skein.Market.Api;

namespace Skein.Fuzz.Targets;

/// <summary>
/// The coordinator's JSON API and the market API, served in memory as the coordinator serves them: the input is one
/// request (<c>GET /path?query</c> or <c>POST /path</c> and a body after the first newline), the route values, query
/// strings and bodies go through the real binding and parsing, and an answer of 500 or an exception is a crash.
/// </summary>
internal static class HttpApiTarget
{
    private static readonly string[] Paths =
    [
        "GET /api/status", "GET /api/tasks", "GET /api/tasks/1", "GET /api/tasks/1/rounds/1", "GET /api/tasks/1/rounds?from=2", "GET /api/accounts/{a}",
        "GET /api/tasks/1/leaderboard", "GET /api/governance", "GET /api/governance?voter={a}", "GET /api/blobs/{h}", "GET /v1/market", "GET /v1/accounts/{a}",
        "GET /v1/providers", "GET /v1/providers/{a}", "GET /v1/deployments?owner={a}&provider={a}&active=true", "GET /v1/deployments/{a}/1", "GET /v1/orders",
        "GET /v1/bids?owner={a}&dseq=1", "GET /v1/leases?owner={a}&provider={a}&active=false",
    ];

    public static FuzzTarget Create()
    {
        var fixture = CoordinatorFixture.Create();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(fixture.Context);
        var app = builder.Build();
        app.MapSkeinApi();
        app.MapMarketApi(fixture.Context.Ledger);
        app.StartAsync().GetAwaiter().GetResult();
        var client = app.GetTestClient();
        var address = LedgerFixture.Keys[0].Address.ToString();
        var tx = LedgerTargets.Transaction();
        string[] requests =
        [
            .. Paths.Select(p => p.Replace("{a}", address, StringComparison.Ordinal).Replace("{h}", new string('a', 64), StringComparison.Ordinal)),
            .. tx.Seeds.Take(4).Select(s => "POST /v1/tx\n" + Encoding.UTF8.GetString(s)),
        ];
        return new FuzzTarget
        {
            Name = "http-api",
            Description = "Coordinator JSON API (/api/...) and market API (/v1/..., POST /v1/tx) in memory: routes, query strings and bodies",
            Seeds = [.. requests.Select(Encoding.UTF8.GetBytes)],
            Dictionary = FuzzText.Of(FuzzText.Json, Paths.Select(p => p[(p.IndexOf(' ', StringComparison.Ordinal) + 1)..]),
                ["?", "&", "=", "/", "%", "%00", "%2F", "%ff", "..", "from=", "voter=", "owner=", "provider=", "active=", "dseq=", address, address.ToLowerInvariant(), "0x", "-1", "18446744073709551616"]),
            Generate = rng => Generate(rng, address, tx),
            Run = input => Run(client, input),
            Resources = new Owner(fixture, app, client),
            MaxInputBytes = 16 << 10,
        };
    }

    private static FuzzOutcome Run(HttpClient client, byte[] input)
    {
        var text = FuzzText.Text(input);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var line = newline < 0 ? text : text[..newline];
        var body = newline < 0 ? "" : text[(newline + 1)..];
        var post = line.StartsWith("POST ", StringComparison.Ordinal);
        var target = line.StartsWith("GET ", StringComparison.Ordinal) ? line[4..] : post ? line[5..] : line;
        var escaped = Escape(target);
        if (Uri.UnescapeDataString(escaped).Contains('\0', StringComparison.Ordinal))
        {
            return FuzzOutcome.Refused; // Kestrel answers 400 to a NUL in the path before any route runs; the in-memory server throws instead
        }
        using var request = new HttpRequestMessage(post ? HttpMethod.Post : HttpMethod.Get, new Uri("http://localhost" + escaped));
        if (post)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = client.SendAsync(request).GetAwaiter().GetResult();
        if ((int)response.StatusCode >= 500)
        {
            throw new FuzzInvariantException($"{line}: answered {(int)response.StatusCode} {response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
        return response.StatusCode == HttpStatusCode.OK ? FuzzOutcome.Accepted : FuzzOutcome.Refused;
    }

    /// <summary>What any HTTP client would put on the wire for this text: a path starting with '/', bytes outside printable ASCII and stray '%' percent-encoded.</summary>
    private static string Escape(string target)
    {
        var s = new StringBuilder("/");
        var bytes = Encoding.UTF8.GetBytes(target.TrimStart('/'));
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var validPercent = b == '%' && i + 2 < bytes.Length && Uri.IsHexDigit((char)bytes[i + 1]) && Uri.IsHexDigit((char)bytes[i + 2]);
            if (b is > 0x20 and < 0x7f && b is not ((byte)'#' or (byte)'"' or (byte)'<' or (byte)'>' or (byte)'\\' or (byte)'^' or (byte)'`' or (byte)'{' or (byte)'|' or (byte)'}')
                && (b != '%' || validPercent))
            {
                s.Append((char)b);
            }
            else
            {
                s.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return s.ToString();
    }

    private static byte[] Generate(DeterministicRandom rng, string address, FuzzTarget tx)
    {
        var value = Gen.Frequency(
            (3, Gen.OneOf(address, address.ToLowerInvariant(), "0x" + address[2..].ToUpperInvariant(), new string('a', 64), "0x" + new string('b', 64), "", "true", "false", "yes")),
            (3, Gen.OneOf(Interesting.Numbers)),
            (1, Gen.String[Gen.Char["0123456789abcdefxABCDEF%./-"], 0, 70]));
        if (rng.NextInt(5) == 0)
        {
            return Encoding.UTF8.GetBytes("POST /v1/tx\n" + Encoding.UTF8.GetString(tx.Generate!(rng)));
        }
        var path = Paths[rng.NextInt(Paths.Length)];
        var parts = path.Split('{', '}');
        var s = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            s.Append(i % 2 == 0 ? parts[i] : value.Draw(rng));
        }
        var request = s.ToString();
        // Route values that are numbers: replace one with a boundary number or junk.
        if (rng.NextInt(2) == 0)
        {
            request = System.Text.RegularExpressions.Regex.Replace(request, "(?<=/|=)[0-9]+(?=/|&|$)", _ => value.Draw(rng));
        }
        return Encoding.UTF8.GetBytes(request);
    }

    private sealed class Owner(CoordinatorFixture fixture, WebApplication app, HttpClient client) : IDisposable
    {
        public void Dispose()
        {
            client.Dispose();
            app.StopAsync().GetAwaiter().GetResult();
            ((IDisposable)app).Dispose();
            fixture.Dispose();
        }
    }
}
