using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Cli.Network;
using Skein.Coordinator;
using Skein.Coordinator.Api;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Cli.Tests;

/// <summary>`skein tls new` makes what the coordinator loads and nodes pin; the bind warning says what leaves loopback.</summary>
public sealed class TlsCommandTests : IDisposable
{
    // A variable of this class's own: the environment is shared by every test running in the process.
    private const string PasswordVariable = "SKEIN_TEST_TLS_NEW_PASSWORD";
    private const string Password = "tls test password";

    private readonly string _dir = Directory.CreateTempSubdirectory("skein-tls-new-").FullName;

    public TlsCommandTests() => Environment.SetEnvironmentVariable(PasswordVariable, Password);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string Out => Path.Combine(_dir, "tls");

    private Task<(int Code, string Out, string Err)> New(params string[] args) =>
        CliRun.Run(["tls", "new", "--out", Out, "--password-env", PasswordVariable, .. args]);

    private async Task<JsonElement> NewJson(params string[] args)
    {
        var (code, stdout, err) = await New([.. args, "--json"]);
        Assert.True(code == 0, err);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public async Task New_writes_a_pfx_with_its_private_key_and_a_pin_of_the_same_certificate_for_the_hosts_given()
    {
        var json = await NewJson("--host", "coord.example.org", "--host", "10.1.2.3", "--host", "::1", "--days", "30");
        var pfx = Path.Combine(Out, "coordinator.pfx");
        var pin = Path.Combine(Out, "coordinator.pin.pem");
        Assert.Equal(Path.GetFullPath(pfx), json.GetProperty("pfx").GetString());
        Assert.Equal(Path.GetFullPath(pin), json.GetProperty("pin").GetString());
        Assert.Equal(["coord.example.org", "10.1.2.3", "::1"], json.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));

        using var withKey = X509CertificateLoader.LoadPkcs12FromFile(pfx, Password);
        Assert.True(withKey.HasPrivateKey);
        using (var key = withKey.GetECDsaPrivateKey())
        {
            Assert.Equal(256, key!.KeySize);
        }
        Assert.ThrowsAny<CryptographicException>(() => X509CertificateLoader.LoadPkcs12FromFile(pfx, "wrong password"));

        Assert.StartsWith("-----BEGIN CERTIFICATE-----", await File.ReadAllTextAsync(pin, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var pinned = CertificatePin.Load(pin);
        Assert.False(pinned.HasPrivateKey);
        Assert.Equal(withKey.RawData, pinned.RawData);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pinned.RawData)), json.GetProperty("sha256").GetString());

        var names = Assert.Single(pinned.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal(["coord.example.org"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Parse("10.1.2.3"), IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
        var notAfter = DateTimeOffset.Parse(json.GetProperty("not_after").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(notAfter, DateTimeOffset.UtcNow.AddDays(30).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30).AddMinutes(1));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
        }
    }

    [Fact]
    public async Task Without_a_host_the_certificate_names_localhost_and_127_0_0_1_and_the_text_says_which_file_goes_where()
    {
        var (code, stdout, err) = await New("--name", "coord");
        Assert.True(code == 0, err);
        using var pinned = CertificatePin.Load(Path.Combine(Out, "coord.pin.pem"));
        var names = Assert.Single(pinned.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal(["localhost"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback], names.EnumerateIPAddresses());
        Assert.Contains($"skein coordinator --tls-cert {Path.Combine(Out, "coord.pfx")} --tls-password-env {PasswordVariable}", stdout, StringComparison.Ordinal);
        Assert.Contains($"skein node --coordinator https://localhost:PORT --tls-pin {Path.Combine(Out, "coord.pin.pem")}", stdout, StringComparison.Ordinal);
        Assert.Contains("skein verify --coordinator", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_coordinator_serves_the_generated_certificate_and_only_clients_pinning_it_connect()
    {
        var ct = TestContext.Current.CancellationToken;
        var json = await NewJson();
        var pfx = json.GetProperty("pfx").GetString()!;
        var pin = json.GetProperty("pin").GetString()!;

        var coordinatorKey = LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("tls-new-coordinator")));
        var nodeKey = LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("tls-new-node")));
        var genesis = new Genesis(67, LedgerParams.Default, [new GenesisAllocation(coordinatorKey.Address, Tokens.Whole(100)), new GenesisAllocation(nodeKey.Address, Tokens.Whole(100))], 0);
        // Exactly what `skein coordinator --tls-cert PFX` passes on: the file and the password variable's value.
        var options = new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "c"), CertificatePath = pfx, CertificatePassword = Environment.GetEnvironmentVariable(PasswordVariable) };
        await using var host = await CoordinatorHost.StartAsync(options, coordinatorKey, genesis, NullLoggerFactory.Instance, ct);
        Assert.Equal("https", host.Uri.Scheme);

        using (var pinned = new CoordinatorConnection(host.Uri, nodeKey, CertificatePin.Load(pin)))
        {
            await pinned.SignInAsync(ct);
            Assert.Equal(67UL, pinned.ChainId);
        }
        using (var trusting = new CoordinatorConnection(host.Uri, nodeKey))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => trusting.SignInAsync(ct));
            Assert.Contains("SSL", $"{refused.Status.Detail} {refused.Status.DebugException}", StringComparison.OrdinalIgnoreCase);
        }
        using var api = new CoordinatorApiClient(host.ApiUri, CertificatePin.Load(pin));
        Assert.Equal(67UL, (await api.GetStatusAsync(ct)).ChainId);
    }

    [Fact]
    public void A_pfx_made_with_an_empty_password_loads_with_an_empty_or_no_password()
    {
        // An empty variable means "no password"; the coordinator passes what the variable holds, "" or, where the
        // platform drops empty variables, null.
        using var certificate = TlsCommands.Create(TlsCommands.DefaultHosts, 1, DateTimeOffset.UtcNow);
        var bytes = certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, "");
        using var empty = X509CertificateLoader.LoadPkcs12(bytes, "");
        using var none = X509CertificateLoader.LoadPkcs12(bytes, null);
        Assert.True(empty.HasPrivateKey && none.HasPrivateKey);
    }

    [Fact]
    public async Task Existing_files_are_kept_unless_force_is_given()
    {
        var first = await NewJson();
        var (code, _, err) = await New();
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"--out: '{Path.Combine(Out, "coordinator.pfx")}' already exists; pass --force", err, StringComparison.Ordinal);
        Assert.Equal(first.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(CertificatePin.Load(first.GetProperty("pin").GetString()!).RawData)));

        // Only the pin left behind still blocks, and is named.
        File.Delete(Path.Combine(Out, "coordinator.pfx"));
        (code, _, err) = await New();
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"'{Path.Combine(Out, "coordinator.pin.pem")}' already exists", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Out, "coordinator.pfx")));

        var forced = await NewJson("--force");
        Assert.NotEqual(first.GetProperty("sha256").GetString(), forced.GetProperty("sha256").GetString());
        using var pinned = CertificatePin.Load(forced.GetProperty("pin").GetString()!);
        Assert.Equal(forced.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(pinned.RawData)));
    }

    [Theory]
    [InlineData("bad_host!")]
    [InlineData("127.1")]
    [InlineData("-coord.example.org")]
    [InlineData("coord..example.org")]
    [InlineData("fe80::1%eth0")]
    [InlineData("")]
    public async Task A_host_that_is_neither_an_ip_address_nor_a_dns_name_is_refused_naming_host(string bad)
    {
        var (code, stdout, err) = await New("--host", "coord.example.org", "--host", bad);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"skein: error: --host: '{bad}' is not an IP address or a DNS name", err, StringComparison.Ordinal);
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task An_unset_password_variable_is_refused_naming_it()
    {
        var variable = "SKEIN_TEST_TLS_UNSET_" + Guid.NewGuid().ToString("N");
        var (code, _, err) = await CliRun.Run("tls", "new", "--out", Out, "--password-env", variable);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"skein: error: --password-env: {variable} is not set", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
    }

    [Theory]
    [InlineData("--days", "0", "--days: must be 1 to 3650")]
    [InlineData("--name", "../x", "--name: must be 1 to 64 letters")]
    public async Task Other_bad_options_are_refused_naming_the_option(string option, string value, string message)
    {
        var (code, _, err) = await New(option, value);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("localhost")]
    public void Loopback_binds_get_no_warning(string host)
    {
        Assert.Null(BindWarning.For(host, tls: false, console: true));
        Assert.Null(BindWarning.Console(host, acting: true));
        Assert.Null(BindWarning.Provider(host));
    }

    [Fact]
    public void Beyond_loopback_the_coordinator_warning_names_what_is_exposed_and_whether_it_is_encrypted()
    {
        var plain = BindWarning.For("0.0.0.0", tls: false, console: false);
        Assert.NotNull(plain);
        Assert.StartsWith("skein: warning: --host 0.0.0.0", plain, StringComparison.Ordinal);
        Assert.Contains("gRPC port for nodes", plain, StringComparison.Ordinal);
        Assert.Contains("JSON API", plain, StringComparison.Ordinal);
        Assert.Contains("unencrypted", plain, StringComparison.Ordinal);
        Assert.Contains("`skein tls new`", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("console", plain, StringComparison.Ordinal);

        var tls = BindWarning.For("::", tls: true, console: true);
        Assert.NotNull(tls);
        Assert.DoesNotContain("unencrypted", tls, StringComparison.Ordinal);
        Assert.Contains("--tls-pin", tls, StringComparison.Ordinal);
        Assert.Contains("the console (plain HTTP even with --tls-cert", tls, StringComparison.Ordinal);

        Assert.Contains("spends from that key", BindWarning.Console("192.168.1.5", acting: true), StringComparison.Ordinal);
        Assert.Contains("read-only", BindWarning.Console("192.168.1.5", acting: false), StringComparison.Ordinal);
        Assert.Contains("unencrypted", BindWarning.Provider("0.0.0.0"), StringComparison.Ordinal);
    }
}
