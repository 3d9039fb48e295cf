using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Skein.Ledger;
using Skein.Ledger.Crypto;

namespace Skein.Market.Provider;

/// <summary>
/// How a tenant proves to a provider that a request (sending a manifest, reading logs) comes from the deployment's
/// owner: it signs the EIP-712 struct <c>ProviderRequest(address tenant,address provider,string method,string path,
/// bytes32 body,uint64 expires)</c> in the ledger's domain and sends it in the <c>X-Skein-Auth</c> header as
/// <c>address:expires:signature</c>. A proof is bound to one provider, one request and its body, and lasts at most
/// five minutes; a wallet can make one too. (Akash uses a tenant TLS client certificate for the same purpose.)
/// </summary>
public static class TenantProof
{
    public const string Header = "X-Skein-Auth";

    public const string TypeSignature = "ProviderRequest(address tenant,address provider,string method,string path,bytes32 body,uint64 expires)";

    public static readonly TimeSpan MaxValidity = TimeSpan.FromMinutes(5);

    public static Hash32 Digest(ulong chainId, Address tenant, Address provider, string method, string path, ReadOnlySpan<byte> body, ulong expiresUnixMs)
    {
        var w = new Eip712Writer(Eip712.TypeHash(TypeSignature));
        w.Address(tenant);
        w.Address(provider);
        w.String(method.ToUpperInvariant());
        w.String(path);
        w.Bytes32(new Hash32(SHA256.HashData(body)));
        w.UInt(expiresUnixMs);
        return new Hash32(Eip712.Digest(chainId, w.HashStruct()));
    }

    /// <summary>The header value proving that <paramref name="key"/> sends this request.</summary>
    public static string Create(LedgerKey key, ulong chainId, Address provider, string method, string path, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        var expires = (ulong)(now + MaxValidity - TimeSpan.FromSeconds(5)).ToUnixTimeMilliseconds();
        var signature = key.Sign(Digest(chainId, key.Address, provider, method, path, body, expires));
        return string.Create(CultureInfo.InvariantCulture, $"{key.Address}:{expires}:0x{Convert.ToHexStringLower(signature)}");
    }

    /// <summary>True, with the tenant, when <paramref name="header"/> proves this request; else false with the reason.</summary>
    public static bool TryVerify(string? header, ulong chainId, Address provider, string method, string path, ReadOnlySpan<byte> body, DateTimeOffset now,
        out Address tenant, out string reason)
    {
        tenant = default;
        var parts = header?.Split(':') ?? [];
        if (parts.Length != 3 || !Address.TryParse(parts[0], out tenant, out _)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires) || !parts[2].StartsWith("0x", StringComparison.Ordinal))
        {
            reason = $"{Header}: expected address:expires:0xsignature from the deployment's owner";
            return false;
        }
        var nowMs = (ulong)now.ToUnixTimeMilliseconds();
        if (expires < nowMs || expires - nowMs > (ulong)MaxValidity.TotalMilliseconds)
        {
            reason = $"{Header}: the proof has expired or lasts longer than {MaxValidity.TotalMinutes:0} minutes";
            return false;
        }
        byte[] signature;
        try
        {
            signature = Convert.FromHexString(parts[2][2..]);
        }
        catch (FormatException)
        {
            reason = $"{Header}: the signature is not hex";
            return false;
        }
        if (!SignatureVerifier.TryRecover(Digest(chainId, tenant, provider, method, path, body, expires), signature, out var signer) || signer != tenant)
        {
            reason = $"{Header}: the signature does not prove that {tenant} sent this request to {provider}";
            return false;
        }
        reason = "";
        return true;
    }

    /// <summary>The SHA-256 of a body, for callers that hash as they stream.</summary>
    public static byte[] BodyHash(string body) => SHA256.HashData(Encoding.UTF8.GetBytes(body));
}
