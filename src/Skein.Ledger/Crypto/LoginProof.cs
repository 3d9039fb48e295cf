namespace Skein.Ledger.Crypto;

/// <summary>
/// Proof that a node holds the key of an address, for opening a session with a coordinator: the node signs the
/// EIP-712 struct <c>Login(address node,bytes32 challenge,uint64 expires)</c> in the ledger's domain, so a
/// wallet can sign it too, and a signature for one chain, challenge or expiry proves nothing for another.
/// </summary>
public static class LoginProof
{
    public const string TypeSignature = "Login(address node,bytes32 challenge,uint64 expires)";

    public static Hash32 Digest(ulong chainId, Address node, Hash32 challenge, ulong expiresUnixMs)
    {
        var w = new Eip712Writer(Eip712.TypeHash(TypeSignature));
        w.Address(node);
        w.Bytes32(challenge);
        w.UInt(expiresUnixMs);
        return new Hash32(Eip712.Digest(chainId, w.HashStruct()));
    }

    public static byte[] Sign(LedgerKey key, ulong chainId, Hash32 challenge, ulong expiresUnixMs)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Sign(Digest(chainId, key.Address, challenge, expiresUnixMs));
    }

    /// <summary>True when <paramref name="signature"/> was made by <paramref name="node"/> over exactly these values.</summary>
    public static bool Verify(ulong chainId, Address node, Hash32 challenge, ulong expiresUnixMs, ReadOnlySpan<byte> signature) =>
        SignatureVerifier.TryRecover(Digest(chainId, node, challenge, expiresUnixMs), signature, out var signer) && signer == node;

    /// <summary>A fresh random challenge.</summary>
    public static Hash32 NewChallenge()
    {
        Span<byte> bytes = stackalloc byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return new Hash32(bytes);
    }

}
