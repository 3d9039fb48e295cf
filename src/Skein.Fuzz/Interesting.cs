namespace Skein.Fuzz;

/// <summary>Values at the edges of the types parsers read: where overflow, sign and length bugs live.</summary>
internal static class Interesting
{
    public static readonly byte[] Bytes = [0x00, 0x01, 0x7f, 0x80, 0xff, (byte)'"', (byte)'\\', (byte)'{', (byte)'[', (byte)'\n', (byte)':', (byte)'-'];

    public static readonly ulong[] Integers =
    [
        0, 1, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
        0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 100_000_000, 100_000_001, 1UL << 40, 0xfffffffffffffff8,
    ];

    public static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295",
        "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936", "1e308", "1e309", "-1e309", "1e-400", "0.1", "1.5",
        "-0.0", "0.5", "100000", "1000000", "100000000", "99999999999999999999999999999999999999999999999999999999999999999999999999999",
    ];

    public static readonly string[] Texts =
    [
        "null", "true", "false", "NaN", "Infinity", "-Infinity", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "{}", "[]", ",", ":", "\"", "\\", "\0", "\u00e9",
        "\ud83d\ude00", "\u202e", "0x", "0X", "  ", "\t", "\r\n", "~", "%", "..", "/", "../", "\u00ff\u00fe",
    ];

    /// <summary>Tokens that open a level of nesting in JSON or YAML (flow and block style), or expand an alias.</summary>
    public static readonly string[] Openers = ["[", "{\"a\":", "{", "[{\"a\":[", "- ", "a:\n ", "[[", "{a: ", "*a ", "- &a [*a, *a]\n", "\"\\\\"];
}
