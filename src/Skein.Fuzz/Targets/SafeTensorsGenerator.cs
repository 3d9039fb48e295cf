using System.Text;
using CsCheck;
using Skein.Core;

namespace Skein.Fuzz.Targets;

/// <summary>safetensors files with generated headers: dtypes, shapes and offsets at their boundaries, data of a near-right length.</summary>
internal static class SafeTensorsGenerator
{
    private static readonly Gen<string> Dim = Gen.Frequency((6, Gen.Int[0, 6].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))), (1, Generators.JsonInteger));
    private static readonly Gen<string> DType = Generators.OneOfStrings([.. Enum.GetNames<TensorDType>(), "f32", "F8_E4M3", "U16"]);

    public static byte[] Next(DeterministicRandom rng)
    {
        var count = rng.NextInt(4);
        var entries = new List<string>();
        long offset = 0;
        for (var i = 0; i < count; i++)
        {
            var size = 4L * (1 + rng.NextInt(4));
            var shape = Generators.JsonArray(Dim, 4).Draw(rng);
            var begin = rng.NextInt(8) == 0 ? Generators.JsonInteger.Draw(rng) : offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var end = rng.NextInt(8) == 0 ? Generators.JsonInteger.Draw(rng) : (offset + size).ToString(System.Globalization.CultureInfo.InvariantCulture);
            offset += size;
            var name = rng.NextInt(6) == 0 ? Generators.JsonString.Draw(rng) : $"\"t{rng.NextInt(3)}\"";
            entries.Add(name + ":" + Generators.JsonObject(rng,
                ("dtype", DType.Draw),
                ("shape", _ => shape),
                ("data_offsets", r => r.NextInt(10) == 0 ? Generators.JsonArray(Generators.JsonScalar, 3).Draw(r) : $"[{begin},{end}]")));
        }
        if (rng.NextInt(4) == 0)
        {
            entries.Add("\"__metadata__\":" + Generators.JsonObject(rng, ("format", Generators.Of(Generators.JsonScalar)), ("a", Generators.Of(Generators.JsonString))));
        }
        var header = Encoding.UTF8.GetBytes("{" + string.Join(",", entries) + "}");
        var data = new byte[Math.Max(0, offset + (rng.NextInt(6) == 0 ? rng.NextInt(9) - 4 : 0))];
        var result = new byte[8 + header.Length + data.Length];
        var claimed = rng.NextInt(10) == 0 ? Interesting.Integers[rng.NextInt(Interesting.Integers.Length)] : (ulong)header.Length;
        BitConverter.TryWriteBytes(result.AsSpan(0, 8), claimed);
        header.CopyTo(result, 8);
        return result;
    }
}
