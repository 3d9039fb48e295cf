using System.Text;
using CsCheck;
using Skein.Core;

namespace Skein.Fuzz.Targets;

/// <summary>Whole SDL files built from their parts, with numbers, units and names at their edges, and now and then an anchor reused by aliases.</summary>
internal static class SdlGenerator
{
    private static readonly Gen<string> Number = Gen.Frequency((3, Gen.OneOf(Interesting.Numbers)), (3, Gen.Int[0, 70000].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("0.5", "100m", "1.5", "-1", "\"2\"", "~", "true", ".inf", "1e3", "0x10")));

    private static readonly Gen<string> Size = Gen.Select(Number, Gen.OneOf("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E", "b", "Zi", "i"))
        .Select((n, u) => n + u);

    private static readonly Gen<string> Name = Gen.Frequency((5, Gen.OneOf("web", "api", "db", "dc", "small", "a")), (1, Gen.String[Gen.Char["abcXYZ-_.0 "], 0, 8]));

    public static byte[] Next(DeterministicRandom rng)
    {
        var s = new StringBuilder();
        s.Append("version: ").Append(rng.NextInt(6) == 0 ? Number.Draw(rng) : rng.NextInt(2) == 0 ? "\"2.0\"" : "\"2.1\"").Append('\n');
        var services = 1 + rng.NextInt(3);
        var names = Enumerable.Range(0, services).Select(_ => Name.Draw(rng)).ToArray();
        s.Append("services:\n");
        foreach (var n in names)
        {
            s.Append("  ").Append(n).Append(":\n    image: ").Append(rng.NextInt(8) == 0 ? Name.Draw(rng) : "nginx:1.25").Append('\n');
            s.Append("    expose:\n      - port: ").Append(Number.Draw(rng)).Append("\n        as: ").Append(Number.Draw(rng)).Append('\n');
            s.Append("        to:\n          - global: ").Append(rng.NextInt(4) == 0 ? Number.Draw(rng) : "true").Append('\n');
            if (rng.NextInt(3) == 0)
            {
                s.Append("        http_options:\n          max_body_size: ").Append(Number.Draw(rng)).Append("\n          next_tries: ").Append(Number.Draw(rng)).Append('\n');
            }
        }
        s.Append("profiles:\n  compute:\n");
        foreach (var n in names)
        {
            var anchor = rng.NextInt(6) == 0 ? " &r" : "";
            s.Append("    ").Append(n).Append(":\n      resources:").Append(anchor).Append("\n        cpu:\n          units: ").Append(Number.Draw(rng)).Append('\n');
            s.Append("        memory:\n          size: ").Append(Size.Draw(rng)).Append('\n');
            s.Append("        storage:\n          - size: ").Append(Size.Draw(rng)).Append('\n');
            if (rng.NextInt(4) == 0)
            {
                s.Append("        gpu:\n          units: ").Append(Number.Draw(rng)).Append("\n          attributes:\n            vendor:\n              nvidia:\n                - model: ")
                    .Append(Name.Draw(rng)).Append("\n                  ram: ").Append(Size.Draw(rng)).Append('\n');
            }
        }
        s.Append("  placement:\n    dc:\n      pricing:\n");
        foreach (var n in names)
        {
            s.Append("        ").Append(n).Append(":\n          denom: ").Append(rng.NextInt(5) == 0 ? Name.Draw(rng) : "uakt").Append("\n          amount: ").Append(Number.Draw(rng)).Append('\n');
        }
        s.Append("deployment:\n");
        foreach (var n in names)
        {
            s.Append("  ").Append(n).Append(":\n    dc:\n      profile: ").Append(n).Append("\n      count: ").Append(Number.Draw(rng)).Append('\n');
        }
        return Encoding.UTF8.GetBytes(s.ToString());
    }
}
