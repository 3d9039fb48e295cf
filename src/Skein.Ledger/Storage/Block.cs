using System.Buffers.Binary;
using System.Security.Cryptography;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Storage;

/// <summary>
/// A block's header: it commits to the previous block (hash chain), to its transactions (in order) and to the
/// state after them. Its hash is SHA-256 over these fields in a fixed binary layout.
/// </summary>
public sealed record BlockHeader(ulong Height, Hash32 PreviousHash, long Timestamp, Hash32 TxRoot, Hash32 StateRoot, int TxCount)
{
    public Hash32 Hash
    {
        get
        {
            Span<byte> buffer = stackalloc byte[8 + 32 + 8 + 32 + 32 + 4];
            BinaryPrimitives.WriteUInt64BigEndian(buffer, Height);
            PreviousHash.Bytes.CopyTo(buffer[8..]);
            BinaryPrimitives.WriteInt64BigEndian(buffer[40..], Timestamp);
            TxRoot.Bytes.CopyTo(buffer[48..]);
            StateRoot.Bytes.CopyTo(buffer[80..]);
            BinaryPrimitives.WriteInt32BigEndian(buffer[112..], TxCount);
            return new Hash32(SHA256.HashData(buffer));
        }
    }

    /// <summary>SHA-256 over the transaction ids in block order (the ids are the EIP-712 digests).</summary>
    public static Hash32 ComputeTxRoot(IReadOnlyList<Hash32> txIds)
    {
        ArgumentNullException.ThrowIfNull(txIds);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var id in txIds)
        {
            h.AppendData(id.Bytes);
        }
        return new Hash32(h.GetHashAndReset());
    }
}

/// <summary>A block: its header and its signed transactions in order.</summary>
public sealed record Block(BlockHeader Header, IReadOnlyList<SignedTransaction> Transactions);
