using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skein.Ledger;

/// <summary>A 32-byte hash (Keccak-256 or SHA-256), printed and serialised as 0x-prefixed lowercase hex.</summary>
[JsonConverter(typeof(Hash32JsonConverter))]
public readonly struct Hash32 : IEquatable<Hash32>
{
    private readonly byte[]? _bytes;

    public Hash32(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32)
        {
            throw new ArgumentException($"a hash has 32 bytes, got {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes.ToArray();
    }

    public static Hash32 Zero { get; } = new(new byte[32]);

    public ReadOnlySpan<byte> Bytes => _bytes ?? Zero._bytes!;

    public static Hash32 Parse(string text, string field = "hash")
    {
        ArgumentNullException.ThrowIfNull(text);
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new FormatException($"{field}: '{text}' is not a 32-byte hash (64 hex digits)");
        }
        return new Hash32(Convert.FromHexString(hex));
    }

    public override string ToString() => "0x" + Convert.ToHexStringLower(Bytes);

    public bool Equals(Hash32 other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is Hash32 other && Equals(other);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(Bytes);
        return h.ToHashCode();
    }

    public static bool operator ==(Hash32 left, Hash32 right) => left.Equals(right);

    public static bool operator !=(Hash32 left, Hash32 right) => !left.Equals(right);
}

/// <summary>JSON form of <see cref="Hash32"/>.</summary>
public sealed class Hash32JsonConverter : JsonConverter<Hash32>
{
    public override Hash32 Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Hash32.Parse(reader.GetString() ?? throw new JsonException("a hash must be a string"));

    public override void Write(Utf8JsonWriter writer, Hash32 value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }
}

/// <summary>JSON form of <see cref="Address"/>: checksummed hex.</summary>
public sealed class AddressJsonConverter : JsonConverter<Address>
{
    public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Address.Parse(reader.GetString() ?? throw new JsonException("an address must be a string"));

    public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }

    // Addresses also key objects (a round's scores by validator): the same text as a property name.
    public override Address ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Address.Parse(reader.GetString() ?? throw new JsonException("an address must be a string"));

    public override void WriteAsPropertyName(Utf8JsonWriter writer, Address value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.ToString());
    }
}

/// <summary>JSON form of token amounts: a decimal string of base units, exact beyond 2^53.</summary>
public sealed class UInt128StringJsonConverter : JsonConverter<UInt128>
{
    public override UInt128 Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetUInt64(out var small)
                ? small
                : throw new JsonException("an amount written as a JSON number must be a whole number in [0, 2^64); write larger amounts as a string of base units");
        }
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("an amount must be a string of base units");
        // Digits only: UInt128.Parse alone would take spaces and a sign, and throw OverflowException past 2^128.
        return text.Length is > 0 and <= 39 && text.All(char.IsAsciiDigit)
            && UInt128.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount)
            ? amount
            : throw new JsonException($"an amount must be a whole number of base units in [0, 2^128), got '{(text.Length <= 80 ? text : text[..80] + "...")}'");
    }

    public override void Write(Utf8JsonWriter writer, UInt128 value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
