using System.Security.Cryptography;
using NBitcoin.Secp256k1;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Crypto;

/// <summary>A secp256k1 private key and its ledger address; signs digests and transactions, never reveals itself.</summary>
public sealed class LedgerKey : IDisposable
{
    public const int PrivateKeyLength = 32;

    private readonly ECPrivKey _key;

    private LedgerKey(ECPrivKey key)
    {
        _key = key;
        Address = SignatureVerifier.AddressOf(key.CreatePubKey());
    }

    public Address Address { get; }

    /// <summary>A fresh key from the operating system's CSPRNG.</summary>
    public static LedgerKey Generate()
    {
        Span<byte> bytes = stackalloc byte[PrivateKeyLength];
        try
        {
            // A random 256-bit string is 0 or >= the curve order with probability ~2^-128; drawing again keeps the
            // distribution uniform over the valid keys instead of reducing modulo n.
            while (true)
            {
                RandomNumberGenerator.Fill(bytes);
                if (ECPrivKey.TryCreate(bytes, Context.Instance, out var key))
                {
                    return new LedgerKey(key);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The key whose 32 big-endian bytes are <paramref name="privateKey"/>; it must lie in [1, n-1].</summary>
    public static LedgerKey FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != PrivateKeyLength)
        {
            throw new ArgumentException($"a private key has {PrivateKeyLength} bytes, got {privateKey.Length}", nameof(privateKey));
        }
        // The message describes the rule, never the bytes: they are the secret.
        return ECPrivKey.TryCreate(privateKey, Context.Instance, out var key)
            ? new LedgerKey(key)
            : throw new ArgumentException("a private key must be at least 1 and below the secp256k1 curve order; this one is 0 or too large", nameof(privateKey));
    }

    /// <summary>
    /// Signs a 32-byte digest: r || s || v with v = 27 + recovery id, s in the lower half of the order (so the
    /// signature is not malleable) and the nonce derived from key and digest by RFC 6979 (so no RNG can leak the key).
    /// </summary>
    public byte[] Sign(Hash32 digest)
    {
        if (!_key.TrySignRecoverable(digest.Bytes, out var signature) || signature is null)
        {
            // Only fails for a digest whose RFC 6979 nonces are all invalid, which is computationally unreachable.
            throw new CryptographicException("secp256k1 signing failed");
        }
        var result = new byte[SignatureVerifier.SignatureLength];
        signature.WriteToSpanCompact(result.AsSpan(0, 64), out var recoveryId);
        // Ids 2 and 3 mean r overflowed the order (probability ~2^-127); Ethereum's v cannot carry them.
        if (recoveryId is not (0 or 1))
        {
            throw new CryptographicException($"secp256k1 produced recovery id {recoveryId}, which v = 27/28 cannot express");
        }
        result[64] = (byte)(27 + recoveryId);
        return result;
    }

    /// <summary>Signs <paramref name="tx"/> for chain <paramref name="chainId"/>; the transaction must be from this key's address.</summary>
    public SignedTransaction SignTransaction(Transaction tx, ulong chainId)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (tx.From != Address)
        {
            throw new ArgumentException($"the transaction is from {tx.From} but this key's address is {Address}", nameof(tx));
        }
        return new SignedTransaction(tx, Sign(tx.Digest(chainId)));
    }

    /// <summary>Copies the secret into <paramref name="destination"/> (32 bytes) for encryption into a key file; the caller zeroes it.</summary>
    internal void ExportPrivateKey(Span<byte> destination) => _key.WriteToSpan(destination);

    public override string ToString() => $"LedgerKey({Address})";

    /// <summary>Overwrites the secret scalar in memory; the key cannot sign afterwards.</summary>
    public void Dispose() => _key.Dispose();
}
