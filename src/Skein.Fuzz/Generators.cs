using System.Globalization;
using CsCheck;
using Skein.Core;

namespace Skein.Fuzz;

/// <summary>
/// CsCheck generators for the values inside structured inputs, drawn from the run's seeded generator so that
/// structured inputs follow the seed too.
/// </summary>
internal static class Generators
{
    public static T Draw<T>(this Gen<T> gen, DeterministicRandom rng) => gen.Generate(new PCG((uint)rng.NextUInt64(), rng.NextUInt64()), null!, out _);

    /// <summary>Boundary and ordinary integers written as JSON numbers.</summary>
    public static readonly Gen<string> JsonInteger = Gen.Frequency(
        (3, Gen.OneOf(Interesting.Numbers)),
        (2, Gen.Int[-3, 1000].Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Long.Select(i => i.ToString(CultureInfo.InvariantCulture))));

    /// <summary>Short strings, mostly of one alphabet, sometimes with quotes, escapes and non-ASCII, as JSON strings.</summary>
    public static readonly Gen<string> JsonString = Gen.Frequency(
        (4, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789_.-"], 0, 12]),
        (1, Gen.String[Gen.Char, 0, 8].Select(s => System.Text.Json.JsonEncodedText.Encode(s).ToString())))
        .Select(s => "\"" + s + "\"");

    /// <summary>A JSON scalar of any kind.</summary>
    public static readonly Gen<string> JsonScalar = Gen.Frequency(
        (3, JsonInteger), (3, JsonString), (1, Gen.OneOf("null", "true", "false", "1.5", "-0.0", "1e309", "0.1")));

    /// <summary>One of the given strings as a JSON string, or now and then any JSON scalar.</summary>
    public static Gen<string> OneOfStrings(params string[] values) =>
        Gen.Frequency((6, Gen.OneOf(values).Select(v => "\"" + v + "\"")), (1, JsonScalar));

    /// <summary>A JSON array of up to <paramref name="max"/> values.</summary>
    public static Gen<string> JsonArray(Gen<string> element, int max) => element.Array[0, max].Select(a => "[" + string.Join(",", a) + "]");

    /// <summary>An object with a random subset of <paramref name="fields"/> (each a known key and its value generator) in random order, sometimes with an unknown key.</summary>
    public static string JsonObject(DeterministicRandom rng, params (string Key, Func<DeterministicRandom, string> Value)[] fields)
    {
        var parts = new List<string>();
        foreach (var (key, value) in fields)
        {
            if (rng.NextInt(5) != 0)
            {
                parts.Add($"\"{key}\":{value(rng)}");
            }
        }
        if (rng.NextInt(20) == 0)
        {
            parts.Add($"{JsonString.Draw(rng)}:{JsonScalar.Draw(rng)}");
        }
        for (var i = parts.Count - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (parts[i], parts[j]) = (parts[j], parts[i]);
        }
        return "{" + string.Join(",", parts) + "}";
    }

    public static Func<DeterministicRandom, string> Of(Gen<string> gen) => gen.Draw;
}
