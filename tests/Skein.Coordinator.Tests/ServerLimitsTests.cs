using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Market.Serving;

namespace Skein.Coordinator.Tests;

/// <summary>What one client may ask of the coordinator: requests a second, body sizes, slow headers and bodies, connections.</summary>
public sealed class ServerLimitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-limits-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("limits-" + name)));

    private Task<CoordinatorHost> StartAsync(ServerLimits limits)
    {
        var genesis = new Genesis(83, LedgerParams.Default, [new GenesisAllocation(Key("coordinator").Address, Tokens.Whole(1_000))], 0);
        return CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, Guid.NewGuid().ToString("N")), Limits = limits },
            Key("coordinator"), genesis, NullLoggerFactory.Instance, Ct);
    }

    /// <summary>Reads until the server closes the connection (or resets it); false if it is still open when the bound runs out.</summary>
    private static async Task<(bool Closed, string Received)> ClosedByServerAsync(Socket socket, TimeSpan bound)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(bound);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            for (var i = 0; i < 10_000; i++)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return (true, received.ToString());
                }
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (SocketException)
        {
            return (true, received.ToString());
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            return (false, received.ToString());
        }
        return (false, received.ToString());
    }

    /// <summary>Reads one whole HTTP/1.1 response (Content-Length or chunked) and leaves the connection open.</summary>
    private static async Task<string> ReadOneResponseAsync(Socket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        for (var i = 0; i < 10_000; i++)
        {
            var text = received.ToString();
            var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headerEnd >= 0)
            {
                var headers = text[..headerEnd];
                var length = System.Text.RegularExpressions.Regex.Match(headers, @"(?im)^content-length:\s*(\d+)");
                if (length.Success ? text.Length - headerEnd - 4 >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
                    : text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
                {
                    return text;
                }
            }
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                return received.ToString();
            }
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return received.ToString();
    }

    private static async Task<Socket> ConnectAsync(Uri uri)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port, Ct);
        return socket;
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_on_the_api_and_resource_exhausted_on_grpc_while_loopback_is_unlimited_by_default()
    {
        await using (var open = await StartAsync(ServerLimits.Default with { RequestsPerSecond = 1, Burst = 3 }))
        {
            using var client = new HttpClient { BaseAddress = open.ApiUri };
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/status", Ct)).StatusCode);
            }
        }

        await using var host = await StartAsync(ServerLimits.Default with { RequestsPerSecond = 1, Burst = 3, LimitLoopback = true });
        using var api = new HttpClient { BaseAddress = host.ApiUri };
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await api.GetAsync("/api/status", Ct);
            statuses.Add(response.StatusCode);
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses.Take(3));
        Assert.NotNull(refused);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        using (var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)))
        {
            Assert.Equal("rate_limited", body.RootElement.GetProperty("error").GetString());
            Assert.StartsWith("rate: more than 1 requests a second (burst 3)", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // The bucket is the client's, whichever endpoint it calls: gRPC is refused with its own status.
        using var channel = GrpcChannel.ForAddress(host.Uri);
        var grpc = new Skein.Protocol.V1.Coordinator.CoordinatorClient(channel);
        RpcException? exhausted = null;
        for (var i = 0; i < 10 && exhausted is null; i++)
        {
            try
            {
                await grpc.HelloAsync(new Skein.Protocol.V1.HelloRequest { Address = Key("coordinator").Address.ToString() }, cancellationToken: Ct);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                exhausted = ex;
            }
        }
        Assert.NotNull(exhausted);
        Assert.StartsWith("rate: more than 1 requests a second", Uri.UnescapeDataString(exhausted.Status.Detail), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_body_over_the_limit_is_refused_with_413_naming_the_limit_declared_or_chunked()
    {
        await using var host = await StartAsync(ServerLimits.Default with { MaxJsonBodyBytes = 4_096 });
        using var api = new HttpClient { BaseAddress = host.ApiUri };
        var big = new string('x', 10_000);
        // Raw sockets: the server answers 413 before reading the body, and an HTTP client still sending it can miss the answer.
        using (var declared = await ConnectAsync(host.ApiUri))
        {
            await declared.SendAsync(Encoding.ASCII.GetBytes("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\nConnection: close\r\n\r\n"),
                SocketFlags.None, Ct);
            var (_, answer) = await ClosedByServerAsync(declared, TimeSpan.FromSeconds(30));
            Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
            Assert.Contains("body: 10000 bytes is more than the 4096", answer, StringComparison.Ordinal);
        }

        // Without a Content-Length the limit applies while the body is read.
        using (var chunked = await ConnectAsync(host.ApiUri))
        {
            await chunked.SendAsync(Encoding.ASCII.GetBytes("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2710\r\n" + big + "\r\n0\r\n\r\n"),
                SocketFlags.None, Ct);
            var (_, answer) = await ClosedByServerAsync(chunked, TimeSpan.FromSeconds(30));
            Assert.StartsWith("HTTP/1.1 413", answer, StringComparison.Ordinal);
        }

        // A small body still reaches the API, which words its own refusal.
        var small = await api.PostAsync("/v1/tx", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, small.StatusCode);
    }

    [Fact]
    public async Task A_client_that_trickles_its_headers_or_its_body_is_cut_off()
    {
        await using var host = await StartAsync(ServerLimits.Default with
        {
            RequestHeadersTimeout = TimeSpan.FromSeconds(1), MinBodyBytesPerSecond = 1_000, MinBodyRateGrace = TimeSpan.FromSeconds(2),
        });
        using (var slowHeaders = await ConnectAsync(host.ApiUri))
        {
            await slowHeaders.SendAsync(Encoding.ASCII.GetBytes("GET /api/status HTTP/1.1\r\nHost: x\r\n"), SocketFlags.None, Ct);
            var (closed, _) = await ClosedByServerAsync(slowHeaders, TimeSpan.FromSeconds(30));
            Assert.True(closed, "a client that never finished its headers still had its connection");
        }
        using (var slowBody = await ConnectAsync(host.ApiUri))
        {
            await slowBody.SendAsync(Encoding.ASCII.GetBytes("POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"tx\":"),
                SocketFlags.None, Ct);
            var (closed, received) = await ClosedByServerAsync(slowBody, TimeSpan.FromSeconds(30));
            Assert.True(closed, "a client sending a few bytes of a 100 KB body still had its connection");
            Assert.DoesNotContain("200 OK", received, StringComparison.Ordinal);
        }
        // The server still answers everyone else.
        using var api = new HttpClient { BaseAddress = host.ApiUri };
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/status", Ct)).StatusCode);
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_closed_as_they_arrive_and_the_held_ones_keep_working()
    {
        await using var host = await StartAsync(ServerLimits.Default with { MaxConnections = 3 });
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await ConnectAsync(host.ApiUri));
                // Served once, so counted: Kestrel counts a connection on a pool thread after accepting it, and without
                // this the extra one could be counted before a held one and take its place.
                await held[i].SendAsync(Encoding.ASCII.GetBytes("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n"), SocketFlags.None, Ct);
                Assert.StartsWith("HTTP/1.1 200 OK", await ReadOneResponseAsync(held[i]), StringComparison.Ordinal);
            }
            using var extra = await ConnectAsync(host.ApiUri);
            await extra.SendAsync(Encoding.ASCII.GetBytes("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n"), SocketFlags.None, Ct);
            var (closed, received) = await ClosedByServerAsync(extra, TimeSpan.FromSeconds(30));
            Assert.True(closed, "the connection over the limit was kept");
            Assert.DoesNotContain("200 OK", received, StringComparison.Ordinal);

            // A held connection is served.
            await held[0].SendAsync(Encoding.ASCII.GetBytes("GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), SocketFlags.None, Ct);
            var (_, answer) = await ClosedByServerAsync(held[0], TimeSpan.FromSeconds(30));
            Assert.StartsWith("HTTP/1.1 200 OK", answer, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public void Limits_that_cannot_work_are_refused_naming_the_setting()
    {
        Assert.Null(ServerLimits.Default.Validate());
        Assert.StartsWith("max_connections:", (ServerLimits.Default with { MaxConnections = 0 }).Validate(), StringComparison.Ordinal);
        Assert.StartsWith("max_grpc_message_bytes:", (ServerLimits.Default with { MaxGrpcMessageBytes = 1_000 }).Validate(), StringComparison.Ordinal);
        Assert.StartsWith("min_body_rate_grace:", (ServerLimits.Default with { MinBodyRateGrace = TimeSpan.FromSeconds(1) }).Validate(), StringComparison.Ordinal);
        Assert.StartsWith("burst:", (ServerLimits.Default with { Burst = 0 }).Validate(), StringComparison.Ordinal);
        Assert.StartsWith("requests_per_second:", (ServerLimits.Default with { RequestsPerSecond = -1 }).Validate(), StringComparison.Ordinal);
    }
}
