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

    /// <summary>Reads a signed transaction; anything that is not one is refused with a <see cref="JsonException"/> naming the field.</summary>
    public static SignedTransaction FromJson(string json)
    {
        SignedTransaction? signed;
        try
        {
            signed = JsonSerializer.Deserialize<SignedTransaction>(json, JsonOptions);
        }
        catch (NotSupportedException ex)
        {
            // System.Text.Json's word for a transaction without "type" (an abstract type it cannot make).
            throw new JsonException($"tx: must have a \"type\" (transfer, stake, create_task, ...) as its first field ({ex.Message})", ex);
        }
        return signed switch
        {
            null => throw new JsonException("empty transaction"),
            { Tx: null } => throw new JsonException("tx: is required"),
            { Signature: null } => throw new JsonException("signature: is required (0x followed by 130 hex digits)"),
            _ => signed,
        };
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            // A null where the type has none ("groups": null) is refused here, not met later as a NullReferenceException.
            RespectNullableAnnotations = true,
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
