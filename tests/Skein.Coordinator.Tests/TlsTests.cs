using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Api;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>Optional TLS: a coordinator with a self-signed certificate, and clients that pin it.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-tls-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("tls-" + name)));

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public async Task Nodes_and_verifiers_that_pin_the_certificate_connect_and_others_are_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        using var certificate = SelfSigned("skein-coordinator");
        var pfx = Path.Combine(_dir, "coordinator.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"), ct);
        var pin = Path.Combine(_dir, "coordinator.crt");
        await File.WriteAllBytesAsync(pin, certificate.Export(X509ContentType.Cert), ct);

        var genesis = new Genesis(66, LedgerParams.Default, [new GenesisAllocation(Key("coordinator").Address, Tokens.Whole(100)), new GenesisAllocation(Key("n").Address, Tokens.Whole(100))], 0);
        var options = new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "c"), CertificatePath = pfx, CertificatePassword = "pfx-password" };
        await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        Assert.Equal("https", host.Uri.Scheme);
        Assert.Equal("https", host.ApiUri.Scheme);

        using (var pinned = new CoordinatorConnection(host.Uri, Key("n"), CertificatePin.Load(pin)))
        {
            await pinned.SignInAsync(ct);
            Assert.Equal(66UL, pinned.ChainId);
        }
        using (var trusting = new CoordinatorConnection(host.Uri, Key("n")))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => trusting.SignInAsync(ct));
            Assert.Contains("SSL", $"{refused.Status.Detail} {refused.Status.DebugException}", StringComparison.OrdinalIgnoreCase);
        }
        using var other = SelfSigned("impostor");
        using (var wrongPin = new CoordinatorConnection(host.Uri, Key("n"), other))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => wrongPin.SignInAsync(ct));
            Assert.Contains("SSL", $"{refused.Status.Detail} {refused.Status.DebugException}", StringComparison.OrdinalIgnoreCase);
        }

        using var api = new CoordinatorApiClient(host.ApiUri, CertificatePin.Load(pin));
        Assert.Equal(66UL, (await api.GetStatusAsync(ct)).ChainId);
        using var unpinnedApi = new CoordinatorApiClient(host.ApiUri);
        await Assert.ThrowsAsync<HttpRequestException>(() => unpinnedApi.GetStatusAsync(ct));
    }

    [Fact]
    public void A_pin_that_is_not_a_certificate_is_refused_with_the_file_named()
    {
        var bad = Path.Combine(_dir, "bad.crt");
        File.WriteAllText(bad, "not a certificate");
        var ex = Assert.Throws<ArgumentException>(() => CertificatePin.Load(bad));
        Assert.Contains("bad.crt' is not a PEM or DER certificate", ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => CertificatePin.Load(Path.Combine(_dir, "missing.crt"))).Message, StringComparison.Ordinal);
    }
}
