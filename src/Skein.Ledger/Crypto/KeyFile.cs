using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Nethereum.KeyStore;
using Nethereum.KeyStore.Crypto;
using Nethereum.KeyStore.Model;

namespace Skein.Ledger.Crypto;

/// <summary>How expensive scrypt makes each password guess (and each unlock).</summary>
public enum KdfStrength
{
    /// <summary>geth's standard: n = 2^18, r = 8, p = 1 (256 MiB and about a second per unlock).</summary>
    Standard,

    /// <summary>n = 2^12, r = 8, p = 1 (4 MiB, milliseconds): for tests and throwaway keys only.</summary>
    Light,
}

/// <summary>What went wrong in a key store operation, for callers that react differently (e.g. ask the password again).</summary>
public enum KeyStoreError
{
    InvalidName,
    EmptyPassword,
    AlreadyExists,
    NotFound,
    WrongPassword,
    Corrupt,
}

/// <summary>A key store failure; the message names the key or file and never contains a password or key material.</summary>
public sealed class KeyStoreException(KeyStoreError error, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public KeyStoreError Error { get; } = error;
}

/// <summary>
/// Web3 Secret Storage v3 key files, the format of geth, Clef and most wallets: the private key AES-128-CTR encrypted
/// under a scrypt-derived key, with a keccak MAC that tells a wrong password from a right one. Files from other
/// tools (scrypt or pbkdf2) open here and ours open there.
/// </summary>
public static class KeyFile
{
    // 128 * n * r bytes of memory per derivation: refuse files that would ask for more than 1 GiB (or absurd PBKDF2
    // counts), so that opening a hostile file cannot exhaust the machine.
    private const long MaxScryptMemory = 1L << 30;
    private const int MaxScryptP = 16;
    private const int MaxPbkdf2Iterations = 10_000_000;

    /// <summary>Encrypts <paramref name="key"/> under <paramref name="password"/> as v3 JSON.</summary>
    public static string Encrypt(LedgerKey key, string password, KdfStrength strength = KdfStrength.Standard)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(password);
        var parameters = strength switch
        {
            KdfStrength.Standard => new ScryptParams { Dklen = 32, N = 1 << 18, R = 8, P = 1 },
            KdfStrength.Light => new ScryptParams { Dklen = 32, N = 1 << 12, R = 8, P = 1 },
            _ => throw new ArgumentOutOfRangeException(nameof(strength), strength, "unknown KDF strength"),
        };
        var secret = new byte[LedgerKey.PrivateKeyLength];
        try
        {
            key.ExportPrivateKey(secret);
            // geth writes the address as 40 lowercase hex digits without 0x; so do we.
            return new KeyStoreScryptService().EncryptAndGenerateKeyStoreAsJson(password, secret, key.Address.ToLowerHex()[2..], parameters);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The address a key file declares, read without the password; throws <see cref="KeyStoreException"/> if the file is not a usable v3 key file or declares none.</summary>
    public static Address ReadAddress(string json, string source = "key file") =>
        Parse(json, source) ?? throw Corrupt(source, "it declares no address (only its password can tell which key it holds)");

    /// <summary>
    /// Decrypts a v3 key file; <paramref name="keyName"/> only labels errors ("wrong password for key 'alice'").
    /// The decrypted key must match the address the file declares (if it declares one, as geth's do; the spec's test
    /// vectors do not), else the file is reported corrupt: the address field is not covered by the MAC.
    /// </summary>
    public static LedgerKey Decrypt(string json, string password, string keyName = "key") =>
        Decrypt(json, password, keyName, $"key '{keyName}'");

    internal static LedgerKey Decrypt(string json, string password, string keyName, string source)
    {
        ArgumentNullException.ThrowIfNull(password);
        var declared = Parse(json, source);
        byte[] secret;
        try
        {
            secret = new KeyStoreService().DecryptKeyStoreFromJson(password, json);
        }
        catch (DecryptionException e)
        {
            // The MAC check failed: the derived key differs, which (for an intact file) means the password does.
            throw new KeyStoreException(KeyStoreError.WrongPassword, $"wrong password for key '{keyName}'", e);
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or FormatException or ArgumentException or InvalidOperationException)
        {
            throw Corrupt(source, "it could not be decrypted", e);
        }
        finally
        {
            ReleaseKdfMemory(json);
        }
        try
        {
            var key = LedgerKey.FromPrivateKey(secret);
            if (declared is { } claimed && key.Address != claimed)
            {
                key.Dispose();
                throw Corrupt(source, $"it declares address {claimed} but holds the key of another address");
            }
            return key;
        }
        catch (ArgumentException e)
        {
            throw Corrupt(source, "the decrypted key is not a valid secp256k1 private key", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Checks everything decryption relies on, so that later failures can only mean a wrong password.</summary>
    private static Address? Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Corrupt(source, "it is not JSON", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Corrupt(source, "it is not a JSON object");
            }
            if (Integer(root, "version", source) != 3)
            {
                throw Corrupt(source, "only version 3 key files are supported");
            }
            Address? address = null;
            if (root.TryGetProperty("address", out _))
            {
                var addressText = String(root, "address", source);
                if (!addressText.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                {
                    addressText = "0x" + addressText;
                }
                if (!Address.TryParse(addressText, out var parsed, out var error))
                {
                    throw Corrupt(source, $"address: {error}");
                }
                address = parsed;
            }
            var crypto = Object(root, "crypto", source);
            if (String(crypto, "cipher", source) != "aes-128-ctr")
            {
                throw Corrupt(source, "crypto.cipher must be aes-128-ctr");
            }
            Hex(crypto, "ciphertext", LedgerKey.PrivateKeyLength, source);
            Hex(Object(crypto, "cipherparams", source), "iv", 16, source);
            Hex(crypto, "mac", 32, source);
            var kdf = Object(crypto, "kdfparams", source);
            if (Integer(kdf, "dklen", source) != 32)
            {
                throw Corrupt(source, "crypto.kdfparams.dklen must be 32");
            }
            Hex(kdf, "salt", null, source);
            switch (String(crypto, "kdf", source))
            {
                case "scrypt":
                    var n = Integer(kdf, "n", source);
                    var r = Integer(kdf, "r", source);
                    var p = Integer(kdf, "p", source);
                    if (n < 2 || (n & (n - 1)) != 0 || r < 1 || p < 1 || p > MaxScryptP || 128L * n * r > MaxScryptMemory)
                    {
                        throw Corrupt(source, $"scrypt parameters n={n}, r={r}, p={p} are invalid or need more than {MaxScryptMemory >> 20} MiB");
                    }
                    break;
                case "pbkdf2":
                    var c = Integer(kdf, "c", source);
                    if (c < 1 || c > MaxPbkdf2Iterations || String(kdf, "prf", source) != "hmac-sha256")
                    {
                        throw Corrupt(source, "pbkdf2 needs prf hmac-sha256 and 1 to 10,000,000 iterations");
                    }
                    break;
                default:
                    throw Corrupt(source, "crypto.kdf must be scrypt or pbkdf2");
            }
            return address;
        }
    }

    /// <summary>
    /// scrypt's working memory (256 MiB at the standard strength) is one large array. Garbage once the key is derived,
    /// it would stay resident in a long-running coordinator or node until a full collection that may never come:
    /// collect it now, the one time a process unlocks its key.
    /// </summary>
    private static void ReleaseKdfMemory(string json)
    {
        using var doc = JsonDocument.Parse(json);
        // Only scrypt at a strength worth it: a light key (4 MiB, tests) is left to the collector's own pace.
        if (!(doc.RootElement.TryGetProperty("crypto", out var crypto) && crypto.TryGetProperty("kdfparams", out var kdf)
            && kdf.TryGetProperty("n", out var n) && kdf.TryGetProperty("r", out var r)
            && n.TryGetInt64(out var nValue) && r.TryGetInt64(out var rValue) && 128 * nValue * rValue >= 64L << 20))
        {
            return;
        }
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private static JsonElement Object(JsonElement parent, string name, string source) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw Corrupt(source, $"'{name}' is missing or not an object");

    private static string String(JsonElement parent, string name, string source) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Corrupt(source, $"'{name}' is missing or not a string");

    private static long Integer(JsonElement parent, string name, string source) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw Corrupt(source, $"'{name}' is missing or not a 32-bit integer");

    private static void Hex(JsonElement parent, string name, int? bytes, string source)
    {
        var text = String(parent, name, source);
        if (text.Length == 0 || text.Length % 2 != 0 || !text.All(char.IsAsciiHexDigit) || bytes is { } b && text.Length != 2 * b)
        {
            var expected = bytes is { } n ? string.Create(CultureInfo.InvariantCulture, $"{n} bytes of hex") : "hex";
            throw Corrupt(source, $"'{name}' must be {expected}");
        }
    }

    private static KeyStoreException Corrupt(string source, string detail, Exception? inner = null) =>
        new(KeyStoreError.Corrupt, $"{source} is not a usable v3 key file: {detail}", inner);
}
