using NBitcoin.Secp256k1;
using Nethereum.Util;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Crypto;

/// <summary>
/// Recovers the signer of a 65-byte secp256k1 signature (r || s || v), as Ethereum's ecrecover does, but strictly:
/// only v in {0, 1, 27, 28} and only low-s signatures, so that each (digest, signer) has exactly one valid signature.
/// </summary>
public static class SignatureVerifier
{
    public const int SignatureLength = 65;

    /// <summary>
    /// The address whose key made <paramref name="signature65"/> over <paramref name="digest"/>, or false when the
    /// signature is malformed (length, v, r or s out of range), malleable (high s) or matches no public key.
    /// </summary>
    public static bool TryRecover(Hash32 digest, ReadOnlySpan<byte> signature65, out Address signer)
    {
        signer = default;
        if (signature65.Length != SignatureLength)
        {
            return false;
        }
        int recoveryId;
        switch (signature65[64])
        {
            case 0 or 1:
                recoveryId = signature65[64];
                break;
            case 27 or 28:
                recoveryId = signature65[64] - 27;
                break;
            default:
                // 2/3 (r overflowed the order) never come out of a real signer, and EIP-155 values belong to RLP
                // transactions, not to typed-data signatures.
                return false;
        }
        // TryCreateFromCompact refuses r or s >= n; recovery itself refuses r = 0 or s = 0.
        if (!SecpRecoverableECDSASignature.TryCreateFromCompact(signature65[..64], recoveryId, out var signature))
        {
            return false;
        }
        signature.Deconstruct(out _, out var s, out _);
        // (r, n - s) is as valid as (r, s) for the same key: accepting both would give one transaction two ids
        // and two encodings. Signers normalise to low s (EIP-2), so high s is refused.
        if (s.IsHigh)
        {
            return false;
        }
        if (Native.Value && TryRecoverNative(digest, signature65[..64], recoveryId, out signer))
        {
            return true;
        }
        if (!ECPubKey.TryRecover(Context.Instance, signature, digest.Bytes, out var publicKey))
        {
            return false;
        }
        signer = AddressOf(publicKey);
        return true;
    }

    /// <summary>
    /// Whether the bundled native libsecp256k1 loads here. Recovery is the ledger's hot path (about 36 us natively
    /// against about 270 us in the managed port), so the native library does it where it can; NBitcoin's port,
    /// which also parses and range-checks every signature above, is the fallback elsewhere.
    /// </summary>
    private static readonly Lazy<bool> Native = new(() =>
    {
        try
        {
            Span<byte> digest = stackalloc byte[32];
            digest[0] = 1;
            var (signature, recoveryId) = Secp256k1Net.Secp256k1.SignRecoverable(digest, [.. Enumerable.Repeat((byte)7, 32)]);
            return Secp256k1Net.Secp256k1.RecoverPublicKey(signature, recoveryId, digest, false) is { Length: 65 };
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or TypeInitializationException)
        {
            return false;
        }
    });

    /// <summary>True when this process recovers signatures with the native library.</summary>
    public static bool UsesNativeLibrary => Native.Value;

    private static bool TryRecoverNative(Hash32 digest, ReadOnlySpan<byte> signature64, int recoveryId, out Address signer)
    {
        signer = default;
        byte[] publicKey;
        try
        {
            publicKey = Secp256k1Net.Secp256k1.RecoverPublicKey(signature64, (byte)recoveryId, digest.Bytes, false);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
        if (publicKey is not { Length: 65 })
        {
            return false;
        }
        var hash = Sha3Keccack.Current.CalculateHash(publicKey[1..]);
        signer = Address.FromBytes(hash.AsSpan(12));
        return true;
    }

    /// <summary>
    /// The sender of <paramref name="tx"/> on chain <paramref name="chainId"/> if its signature is valid and made by
    /// <c>tx.Tx.From</c>; null otherwise (bad signature, another signer, another chain).
    /// </summary>
    public static Address? Recover(SignedTransaction tx, ulong chainId)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (tx.Tx is null || tx.Signature is null)
        {
            return null;
        }
        return TryRecover(tx.Tx.Digest(chainId), tx.Signature, out var signer) && signer == tx.Tx.From ? signer : null;
    }

    /// <summary>The Ethereum address of a public key: the last 20 bytes of keccak256 of its 64-byte uncompressed form (x || y).</summary>
    internal static Address AddressOf(ECPubKey publicKey)
    {
        Span<byte> uncompressed = stackalloc byte[65];
        publicKey.WriteToSpan(false, uncompressed, out _);
        var hash = Sha3Keccack.Current.CalculateHash(uncompressed[1..].ToArray());
        return Address.FromBytes(hash.AsSpan(12));
    }
}
