using System.Globalization;
using System.Text.Json;

namespace Skein.Market.Provider;

/// <summary>One service of a manifest's group: what to run and the resources of one instance.</summary>
public sealed record ManifestService(string Name, string Image, IReadOnlyList<string> Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env,
    uint Count, ulong CpuMillis, ulong MemoryBytes, ulong StorageBytes, uint Gpus);

/// <summary>Reads the services of one group out of an Akash manifest (the JSON a tenant sends after the lease).</summary>
public static class ManifestReader
{
    /// <summary>The services of group <paramref name="group"/>; a malformed manifest or a missing group is a <see cref="FormatException"/> naming where.</summary>
    public static IReadOnlyList<ManifestService> Services(string manifestJson, string group)
    {
        ArgumentNullException.ThrowIfNull(manifestJson);
        try
        {
            using var doc = JsonDocument.Parse(manifestJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("manifest: must be a list of groups");
            }
            var g = doc.RootElement.EnumerateArray().FirstOrDefault(e => e.TryGetProperty("name", out var n) && n.GetString() == group);
            if (g.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"manifest: has no group '{group}'");
            }
            return g.GetProperty("services").EnumerateArray().Select((s, i) => Service(s, $"manifest.{group}.services[{i}]")).ToArray();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"manifest: not an Akash manifest ({ex.Message})", ex);
        }
    }

    private static ManifestService Service(JsonElement s, string at)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Strings(s, "env"))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"{at}.env: '{line.Split('=')[0]}' is not KEY=value");
            }
            env[line[..eq]] = line[(eq + 1)..];
        }
        var r = s.GetProperty("resources");
        var storage = r.TryGetProperty("storage", out var st) && st.ValueKind == JsonValueKind.Array
            ? st.EnumerateArray().Aggregate(0UL, (sum, v) => sum + Val(v.GetProperty("size")))
            : 0UL;
        return new ManifestService(
            s.GetProperty("name").GetString() ?? throw new FormatException($"{at}.name: missing"),
            s.GetProperty("image").GetString() ?? throw new FormatException($"{at}.image: missing"),
            Strings(s, "command"),
            Strings(s, "args"),
            env,
            s.GetProperty("count").GetUInt32(),
            Val(r.GetProperty("cpu").GetProperty("units")),
            Val(r.GetProperty("memory").GetProperty("size")),
            storage,
            r.TryGetProperty("gpu", out var gpu) ? (uint)Val(gpu.GetProperty("units")) : 0);
    }

    private static string[] Strings(JsonElement s, string name) =>
        s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToArray() : [];

    // Akash writes quantities as {"val": "123"}; plain numbers are taken too.
    private static ulong Val(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => Val(e.GetProperty("val")),
        JsonValueKind.String => ulong.Parse(e.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture),
        JsonValueKind.Number => e.GetUInt64(),
        _ => throw new FormatException($"manifest: '{e}' is not a quantity"),
    };
}
