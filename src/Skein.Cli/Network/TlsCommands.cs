using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace Skein.Cli.Network;

/// <summary>`skein tls new`: a self-signed coordinator certificate (PFX with its key) and its public part for nodes to pin.</summary>
public static partial class TlsCommands
{
    /// <summary>What `tls new` names when no --host is given: a coordinator reached on this machine.</summary>
    public static readonly IReadOnlyList<string> DefaultHosts = ["localhost", "127.0.0.1"];

    public static Command Build()
    {
        var tls = new Command("tls", "Certificates for a coordinator across machines: nodes pin the coordinator's certificate from their first run");
        tls.Add(New());
        return tls;
    }

    private static Command New()
    {
        var command = new Command("new", "Make a self-signed coordinator certificate (ECDSA P-256): DIR/NAME.pfx for `skein coordinator --tls-cert`, DIR/NAME.pin.pem for `--tls-pin`");
        var outDir = new Option<string>("--out") { Description = "Folder to write NAME.pfx and NAME.pin.pem to (created if missing)", Required = true, HelpName = "folder" };
        var name = new Option<string>("--name") { Description = "File name stem (letters, digits, - and _)", DefaultValueFactory = _ => "coordinator", HelpName = "name" };
        var hosts = new Option<string[]>("--host") { Description = "A DNS name or IP address nodes reach the coordinator by (repeatable; default: localhost and 127.0.0.1)", HelpName = "name|ip" };
        var days = new Option<int>("--days") { Description = "Days the certificate is valid (1 to 3650)", DefaultValueFactory = _ => 825 };
        var passwordEnv = new Option<string>("--password-env") { Description = "Environment variable holding the PFX password (must be set; empty means no password)", DefaultValueFactory = _ => "SKEIN_TLS_PASSWORD", HelpName = "name" };
        var force = new Option<bool>("--force") { Description = "Overwrite existing files" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { outDir, name, hosts, days, passwordEnv, force, json })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => Ledger.LedgerOptions.GuardAsync(parse, async () =>
        {
            var folder = parse.GetValue(outDir)!;
            var stem = parse.GetValue(name)!;
            if (!FileStem().IsMatch(stem))
            {
                throw new ArgumentException($"--name: must be 1 to 64 letters, digits, - and _, got '{stem}'");
            }
            var sans = ParseHosts(parse.GetValue(hosts) is { Length: > 0 } given ? given : DefaultHosts);
            var validDays = parse.GetValue(days) is var d and >= 1 and <= 3650 ? d : throw new ArgumentException($"--days: must be 1 to 3650, got {parse.GetValue(days)}");
            var variable = parse.GetValue(passwordEnv)!;
            if (variable.Length == 0 || variable.Contains('=', StringComparison.Ordinal))
            {
                throw new ArgumentException($"--password-env: '{variable}' is not an environment variable name");
            }
            // Unset is refused rather than taken as "no password": a typo in the variable's name would otherwise
            // leave the private key unencrypted without a word. An empty value is a deliberate choice.
            var password = Environment.GetEnvironmentVariable(variable)
                ?? throw new ArgumentException($"--password-env: {variable} is not set; set it to the PFX password (the coordinator reads the same variable), or to an empty value for none");
            if (File.Exists(folder))
            {
                throw new ArgumentException($"--out: '{folder}' is a file, not a folder");
            }
            var pfxPath = Path.Combine(folder, stem + ".pfx");
            var pinPath = Path.Combine(folder, stem + ".pin.pem");
            var overwrite = parse.GetValue(force);
            foreach (var path in new[] { pfxPath, pinPath })
            {
                if (File.Exists(path) && !overwrite)
                {
                    throw new ArgumentException($"--out: '{path}' already exists; pass --force to replace it (nodes that pinned the old certificate then need the new pin)");
                }
            }

            using var certificate = Create(sans, validDays, DateTimeOffset.UtcNow);
            Directory.CreateDirectory(folder);
            await WritePrivateAsync(pfxPath, certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password), ct);
            await File.WriteAllTextAsync(pinPath, certificate.ExportCertificatePem() + "\n", ct);

            var sha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
            var notAfter = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(new
                {
                    pfx = Path.GetFullPath(pfxPath),
                    pin = Path.GetFullPath(pinPath),
                    sha256,
                    hosts = sans,
                    not_after = notAfter,
                }));
            }
            else
            {
                await stdout.WriteAsync(Explain(pfxPath, pinPath, variable, sans, sha256, notAfter));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// A self-signed ECDSA P-256 server certificate whose subject alternative names are <paramref name="hosts"/>
    /// (each a DNS name or an IP address, already checked), valid from an hour before <paramref name="now"/>.
    /// </summary>
    public static X509Certificate2 Create(IReadOnlyList<string> hosts, int days, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentOutOfRangeException.ThrowIfZero(hosts.Count);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(hosts[0]);
        subject.AddOrganizationName("Skein");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Kestrel refuses a certificate whose extended key usage leaves out server authentication.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // An hour's grace before now: a machine whose clock is a little behind the one that made it still accepts it.
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(days));
    }

    /// <summary>The hosts as given, checked (a DNS name or an IP address each) and without duplicates.</summary>
    public static IReadOnlyList<string> ParseHosts(IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var result = new List<string>();
        foreach (var text in hosts)
        {
            var host = Host(text);
            if (!result.Contains(host, StringComparer.OrdinalIgnoreCase))
            {
                result.Add(host);
            }
        }
        return result;
    }

    private static string Host(string text)
    {
        var bad = $"--host: '{text}' is not an IP address or a DNS name (labels of letters, digits and -, at most 253 characters)";
        if (text.Contains(':', StringComparison.Ordinal))
        {
            // IPv6 only; a scope (%eth0) names an interface of one machine, which no certificate can.
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && v6.ScopeId == 0 && !text.Contains('%', StringComparison.Ordinal)
                ? v6.ToString()
                : throw new ArgumentException(bad);
        }
        if (text.All(c => char.IsAsciiDigit(c) || c == '.'))
        {
            // Only the dotted quad: IPAddress.TryParse also takes "10" or "127.1", which nobody means as a host here.
            return text.Split('.').Length == 4 && IPAddress.TryParse(text, out var v4) ? v4.ToString() : throw new ArgumentException(bad);
        }
        return text.Length <= 253 && DnsName().IsMatch(text) ? text.ToLowerInvariant() : throw new ArgumentException(bad);
    }

    /// <summary>Creates the PFX readable by its owner only: it holds the private key.</summary>
    internal static async Task WritePrivateAsync(string path, byte[] bytes, CancellationToken ct)
    {
        // Replaced rather than truncated, so that the new file is created with the owner-only mode from the start.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(path, options))
        {
            await file.WriteAsync(bytes, ct);
        }
        if (!OperatingSystem.IsWindows())
        {
            // The umask applies to the create mode; set it explicitly so that the mode is exactly 0600.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static string Explain(string pfx, string pin, string variable, IReadOnlyList<string> hosts, string sha256, string notAfter)
    {
        var passwordOption = variable == "SKEIN_TLS_PASSWORD" ? "" : $" --tls-password-env {variable}";
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Self-signed certificate for {string.Join(", ", hosts)} (ECDSA P-256), valid until {notAfter}");
        text.AppendLine(CultureInfo.InvariantCulture, $"SHA-256 {sha256}");
        text.AppendLine();
        var width = Math.Max(pfx.Length, pin.Length);
        text.AppendLine(CultureInfo.InvariantCulture, $"  {pfx.PadRight(width)}  certificate and private key: stays on the coordinator");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {pin.PadRight(width)}  public certificate: copy it to every node and verifier");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"On the coordinator, with {variable} set to the same password:");
        text.AppendLine(CultureInfo.InvariantCulture, $"  skein coordinator --tls-cert {pfx}{passwordOption} --host 0.0.0.0 ...");
        text.AppendLine("On each node and verifier, with the https URLs the coordinator prints:");
        text.AppendLine(CultureInfo.InvariantCulture, $"  skein node --coordinator https://{UrlHost(hosts[0])}:PORT --tls-pin {pin} ...");
        text.AppendLine(CultureInfo.InvariantCulture, $"  skein verify --coordinator https://{UrlHost(hosts[0])}:API_PORT --tls-pin {pin} ...");
        return text.ToString();
    }

    private static string UrlHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FileStem();

    // Labels of 1 to 63 letters, digits and hyphens, neither starting nor ending with a hyphen (RFC 1123).
    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex DnsName();
}
