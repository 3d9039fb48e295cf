using System.Text.RegularExpressions;

namespace Skein.Market.Sdl;

/// <summary>
/// Addresses an SDL may name in <c>signedBy</c>: Akash's bech32 accounts (<c>akash1...</c>, checksum verified) and
/// Ethereum-style addresses (<c>0x</c> and 40 hex digits), which Skein's own market uses.
/// </summary>
public static partial class AuditorAddress
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private static readonly uint[] Generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

    public static bool IsValid(string address) => IsEthereum(address) || IsAkashBech32(address);

    public static bool IsEthereum(string address) => address is not null && EthereumPattern().IsMatch(address);

    /// <summary>
    /// A bech32 string (BIP-173) with the human-readable part <c>akash</c>: one case, the bech32 alphabet, and a
    /// valid checksum. Written here because no package on this machine's NuGet list offers bech32 on its own.
    /// </summary>
    public static bool IsAkashBech32(string address)
    {
        if (address is null || address.Length is < 14 or > 90 || !address.StartsWith("akash1", StringComparison.Ordinal))
        {
            return false;
        }
        var data = address[6..];
        var values = new List<byte>(data.Length);
        foreach (var c in data)
        {
            var v = Charset.IndexOf(c, StringComparison.Ordinal);
            if (v < 0)
            {
                return false;
            }
            values.Add((byte)v);
        }
        var check = new List<byte>();
        foreach (var c in "akash")
        {
            check.Add((byte)(c >> 5));
        }
        check.Add(0);
        foreach (var c in "akash")
        {
            check.Add((byte)(c & 31));
        }
        check.AddRange(values);
        return Polymod(check) == 1;
    }

    private static uint Polymod(List<byte> values)
    {
        var chk = 1u;
        foreach (var v in values)
        {
            var top = chk >> 25;
            chk = ((chk & 0x1ffffff) << 5) ^ v;
            for (var i = 0; i < 5; i++)
            {
                if (((top >> i) & 1) != 0)
                {
                    chk ^= Generator[i];
                }
            }
        }
        return chk;
    }

    [GeneratedRegex("^0x[0-9a-fA-F]{40}$")]
    private static partial Regex EthereumPattern();
}
