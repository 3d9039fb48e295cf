using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Skein.Core;

/// <summary>
/// TLS trust for clients of a coordinator: exactly one pinned certificate (a coordinator's self-signed one, handed
/// out with its URL), or the system's roots when nothing is pinned.
/// </summary>
public static class CertificatePin
{
    /// <summary>Loads a certificate (PEM or DER) to pin; a clear error names the file when it is not one.</summary>
    public static X509Certificate2 Load(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!File.Exists(file))
        {
            throw new ArgumentException($"--tls-pin: '{file}' does not exist");
        }
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(file);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new ArgumentException($"--tls-pin: '{file}' is not a PEM or DER certificate ({ex.Message})", ex);
        }
    }

    /// <summary>An HTTP handler that accepts the pinned certificate only (or, with none, what the system trusts).</summary>
    public static SocketsHttpHandler Handler(X509Certificate2? pinned)
    {
        var handler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = 16 << 20, EnableMultipleHttp2Connections = true };
        if (pinned is not null)
        {
            var expected = pinned.RawData;
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // A pin replaces chain and name checks: the bytes must be the coordinator's certificate.
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected),
            };
        }
        return handler;
    }
}
