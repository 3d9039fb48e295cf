using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Nethereum.Util;

namespace Skein.Ledger.Crypto;

/// <summary>
/// EIP-712 typed-data hashing for the ledger's transactions: digest = keccak256(0x19 0x01 || domainSeparator ||
/// hashStruct(tx)), with the domain EIP712Domain(string name,string version,uint256 chainId) = ("Skein Ledger",
/// "1", chainId). The same digests come out of any EIP-712 implementation (a test checks Nethereum's), so a
/// wallet's eth_signTypedData_v4 signature is a valid ledger signature.
/// </summary>
public static class Eip712
{
    public const string DomainName = "Skein Ledger";
    public const string DomainVersion = "1";
    public const string DomainType = "EIP712Domain(string name,string version,uint256 chainId)";

    private static readonly ConcurrentDictionary<string, byte[]> TypeHashes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<ulong, byte[]> DomainSeparators = new();

    public static byte[] Keccak(ReadOnlySpan<byte> data) => Sha3Keccack.Current.CalculateHash(data.ToArray());

    public static byte[] TypeHash(string typeSignature) =>
        TypeHashes.GetOrAdd(typeSignature, t => Keccak(Encoding.UTF8.GetBytes(t)));

    public static byte[] DomainSeparator(ulong chainId) => DomainSeparators.GetOrAdd(chainId, id =>
    {
        var w = new Eip712Writer(TypeHash(DomainType));
        w.String(DomainName);
        w.String(DomainVersion);
        w.UInt(id);
        return w.HashStruct();
    });

    /// <summary>The 32 bytes a signer signs: keccak256(0x19 0x01 || domainSeparator || structHash).</summary>
    public static byte[] Digest(ulong chainId, ReadOnlySpan<byte> structHash)
    {
        Span<byte> buffer = stackalloc byte[66];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        DomainSeparator(chainId).CopyTo(buffer[2..]);
        structHash.CopyTo(buffer[34..]);
        return Keccak(buffer);
    }
}

/// <summary>Builds one struct's EIP-712 encoding: its type hash followed by one 32-byte word per field.</summary>
public sealed class Eip712Writer
{
    private readonly List<byte> _data = new(256);

    public Eip712Writer(byte[] typeHash)
    {
        ArgumentNullException.ThrowIfNull(typeHash);
        _data.AddRange(typeHash);
    }

    public void Address(Address value)
    {
        Span<byte> word = stackalloc byte[32];
        value.WriteTo(word[12..]);
        Append(word);
    }

    public void UInt(UInt128 value)
    {
        Span<byte> word = stackalloc byte[32];
        BinaryPrimitives.WriteUInt128BigEndian(word[16..], value);
        Append(word);
    }

    public void Bytes32(Hash32 value) => Append(value.Bytes);

    public void String(string value) => Append(Eip712.Keccak(Encoding.UTF8.GetBytes(value)));

    /// <summary>A uint256[] field: keccak256 of the concatenated 32-byte words.</summary>
    public void UIntArray(IReadOnlyList<ulong> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var buffer = new byte[32 * values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan((32 * i) + 24), values[i]);
        }
        Append(Eip712.Keccak(buffer));
    }

    /// <summary>A bytes32[] field: keccak256 of the concatenated hashes.</summary>
    public void Bytes32Array(IReadOnlyList<Hash32> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var buffer = new byte[32 * values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            values[i].Bytes.CopyTo(buffer.AsSpan(32 * i));
        }
        Append(Eip712.Keccak(buffer));
    }

    public byte[] HashStruct() => Eip712.Keccak(_data.ToArray());

    private void Append(ReadOnlySpan<byte> word)
    {
        foreach (var b in word)
        {
            _data.Add(b);
        }
    }
}
