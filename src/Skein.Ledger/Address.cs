using System.Buffers.Binary;
using System.Globalization;
using Nethereum.Util;

namespace Skein.Ledger;

/// <summary>A 20-byte Ethereum-style account address; ordered by its bytes, printed with the EIP-55 checksum.</summary>
public readonly struct Address : IEquatable<Address>, IComparable<Address>
{
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    private Address(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    public const int Length = 20;

    public static Address Zero => default;

    public static Address FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"an address has {Length} bytes, got {bytes.Length}", nameof(bytes));
        }
        return new Address(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Parses "0x" followed by 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum.</summary>
    public static Address Parse(string text, string field = "address")
    {
        if (!TryParse(text, out var address, out var error))
        {
            throw new FormatException($"{field}: {error}");
        }
        return address;
    }

    public static bool TryParse(string? text, out Address address, out string? error)
    {
        address = default;
        if (text is null || text.Length != 42 || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            error = $"'{text}' is not an address (0x followed by 40 hex digits)";
            return false;
        }
        var hex = text[2..];
        if (!hex.All(Uri.IsHexDigit))
        {
            error = $"'{text}' has characters that are not hex digits";
            return false;
        }
        var mixed = hex.Any(char.IsUpper) && hex.Any(char.IsLower);
        if (mixed && !new AddressUtil().IsChecksumAddress(text))
        {
            error = $"'{text}' has mixed case but an invalid EIP-55 checksum (a mistyped address?)";
            return false;
        }
        address = FromBytes(Convert.FromHexString(hex));
        error = null;
        return true;
    }

    /// <summary>EIP-55 checksummed hex.</summary>
    public override string ToString() => new AddressUtil().ConvertToChecksumAddress("0x" + Convert.ToHexStringLower(ToBytes()));

    /// <summary>Lowercase hex, the canonical form in storage and hashes.</summary>
    public string ToLowerHex() => "0x" + Convert.ToHexStringLower(ToBytes());

    public bool Equals(Address other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public int CompareTo(Address other)
    {
        var x = _a.CompareTo(other._a);
        if (x != 0)
        {
            return x;
        }
        x = _b.CompareTo(other._b);
        return x != 0 ? x : _c.CompareTo(other._c);
    }

    public static bool operator ==(Address left, Address right) => left.Equals(right);

    public static bool operator !=(Address left, Address right) => !left.Equals(right);

    public static bool operator <(Address left, Address right) => left.CompareTo(right) < 0;

    public static bool operator >(Address left, Address right) => left.CompareTo(right) > 0;

    public static bool operator <=(Address left, Address right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Address left, Address right) => left.CompareTo(right) >= 0;

    internal string ShortForm => ToLowerHex()[..10].ToString(CultureInfo.InvariantCulture);
}
