using System.Text.Json;
using System.Text.Json.Serialization;
using Skein.Ledger.Crypto;

namespace Skein.Ledger.Transactions;

/// <summary>A transaction with its sender's 65-byte secp256k1 signature (r, s, v) over the EIP-712 digest.</summary>
public sealed record SignedTransaction(Transaction Tx, byte[] Signature)
{
    /// <summary>
    /// The chain the sender signed for, stated in the envelope so that a transaction for another chain is refused
    /// with that reason; the signature covers the chain id through the EIP-712 domain, so a false claim fails.
    /// </summary>
    public ulong? ChainId { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    /// <summary>The commitment a validator publishes for <paramref name="scores"/> with <paramref name="salt"/>.</summary>
    public static Hash32 ScoreCommitment(ulong taskId, uint round, Address validator, IReadOnlyList<ulong> scores, Hash32 salt)
    {
        var w = new Eip712Writer(Eip712.TypeHash("ScoreCommitment(uint64 taskId,uint32 round,address validator,uint256[] scores,bytes32 salt)"));
        w.UInt(taskId);
        w.UInt(round);
        w.Address(validator);
        w.UIntArray(scores);
        w.Bytes32(salt);
        return new Hash32(w.HashStruct());
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a signed transaction; a missing <c>tx</c> or <c>signature</c> is a <see cref="JsonException"/> naming it, as any malformed field is.</summary>
    public static SignedTransaction FromJson(string json)
    {
        var signed = JsonSerializer.Deserialize<SignedTransaction>(json, JsonOptions) ?? throw new JsonException("empty transaction");
        // Positional records take absent properties as null: refuse them here, not as a crash in whoever reads them.
        if (signed.Tx is null)
        {
            throw new JsonException("tx: required");
        }
        if (signed.Signature is null)
        {
            throw new JsonException("signature: required");
        }
        return signed;
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        };
        options.Converters.Add(new AddressJsonConverter());
        options.Converters.Add(new UInt128StringJsonConverter());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new HexBytesJsonConverter());
        return options;
    }
}

/// <summary>JSON form of signatures and other raw bytes: 0x-prefixed hex.</summary>
public sealed class HexBytesJsonConverter : JsonConverter<byte[]>
{
    public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString() ?? throw new JsonException("bytes must be a 0x-prefixed hex string");
        try
        {
            return Convert.FromHexString(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s);
        }
        catch (FormatException)
        {
            throw new JsonException($"'{s}' is not hex");
        }
    }

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue("0x" + Convert.ToHexStringLower(value));
    }
}
