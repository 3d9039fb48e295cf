using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Templates;

/// <summary>
/// One render's edits to a template's YAML tree. Each setting returns an error message or null; messages name
/// keys but never the values of env variables, which may be secrets (a key file, a password).
/// </summary>
internal sealed partial class TemplateEdit(YamlMappingNode root)
{
    public string? Apply(string key, string value)
    {
        if (EnvKey().IsMatch(key))
        {
            return SetEnv(key, value);
        }
        if (key.StartsWith("attr.", StringComparison.Ordinal) && key.Length > 5)
        {
            ForEachPlacement(p => Child(p, "attributes")!.Children[new YamlScalarNode(key[5..])] = Scalar(value));
            return null;
        }
        return key switch
        {
            "image" => ForEachService(s => s.Children[new YamlScalarNode("image")] = Scalar(value)),
            "count" => ForEachDeployment(d => d.Children[new YamlScalarNode("count")] = Scalar(value)),
            "cpu" => ForEachResources(r => Child(r, "cpu")!.Children[new YamlScalarNode("units")] = Scalar(value)),
            "memory" => ForEachResources(r => Child(r, "memory")!.Children[new YamlScalarNode("size")] = Scalar(value)),
            "storage" => ForEachResources(r => SetStorage(r, value)),
            "gpu" => ForEachResources(r => SetGpuUnits(r, value)),
            "gpu_models" => ForEachResources(r => SetGpuModels(r, value)),
            "price" => ForEachPrice(p => p.Children[new YamlScalarNode("amount")] = Scalar(value)),
            "denom" => ForEachPrice(p => p.Children[new YamlScalarNode("denom")] = Scalar(value)),
            "signed_by" => ForEachPlacement(p => Child(p, "signedBy")!.Children[new YamlScalarNode("anyOf")] =
                new YamlSequenceNode(Split(value).Select(a => (YamlNode)Scalar(a)))),
            _ => $"unknown setting '{key}'; settings: UPPER_CASE env variables of the template ({string.Join(", ", EnvNames())}) and {string.Join(", ", TemplateRenderer.ProfileKeys.Keys)}",
        };
    }

    private string? SetEnv(string key, string value)
    {
        var found = false;
        foreach (var service in Services())
        {
            if (Get(service, "env") is not YamlSequenceNode env)
            {
                continue;
            }
            for (var i = 0; i < env.Children.Count; i++)
            {
                if (env.Children[i] is YamlScalarNode { Value: { } item } && item.StartsWith(key + "=", StringComparison.Ordinal))
                {
                    // Quoted, so that a JSON document or a URL stays one string whatever it holds.
                    env.Children[i] = new YamlScalarNode($"{key}={value}") { Style = ScalarStyle.DoubleQuoted };
                    found = true;
                }
            }
        }
        return found ? null : $"unknown variable {key}: no service of the template declares it; its variables: {string.Join(", ", EnvNames())}";
    }

    private static void SetStorage(YamlMappingNode resources, string size)
    {
        var storage = Get(resources, "storage");
        var volumes = storage is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>().ToList() : storage is YamlMappingNode one ? [one] : [];
        var target = volumes.FirstOrDefault(v => Get(v, "attributes") is YamlMappingNode a && Get(a, "persistent") is YamlScalarNode { Value: "true" or "yes" or "on" })
            ?? (volumes.Count == 1 ? volumes[0] : volumes.FirstOrDefault());
        target?.Children[new YamlScalarNode("size")] = Scalar(size);
    }

    private static void SetGpuUnits(YamlMappingNode resources, string units)
    {
        if (units == "0")
        {
            resources.Children.Remove(new YamlScalarNode("gpu"));
            return;
        }
        var gpu = Child(resources, "gpu")!;
        gpu.Children[new YamlScalarNode("units")] = Scalar(units);
        if (Get(gpu, "attributes") is null)
        {
            // No models named: any NVIDIA model, the form Akash writes as `nvidia:` (null).
            gpu.Children[new YamlScalarNode("attributes")] = Vendor(new YamlScalarNode("null"));
        }
    }

    private static void SetGpuModels(YamlMappingNode resources, string models)
    {
        var gpu = Child(resources, "gpu")!;
        if (Get(gpu, "units") is null)
        {
            gpu.Children[new YamlScalarNode("units")] = Scalar("1");
        }
        YamlNode list = models.Trim() is "*" or "any"
            ? new YamlScalarNode("null")
            : new YamlSequenceNode(Split(models).Select(m => (YamlNode)new YamlMappingNode(new YamlScalarNode("model"), Scalar(m))));
        gpu.Children[new YamlScalarNode("attributes")] = Vendor(list);
    }

    private static YamlMappingNode Vendor(YamlNode nvidia) =>
        new(new YamlScalarNode("vendor"), new YamlMappingNode(new YamlScalarNode("nvidia"), nvidia));

    private IEnumerable<YamlMappingNode> Services() =>
        Get(root, "services") is YamlMappingNode services ? services.Children.Values.OfType<YamlMappingNode>() : [];

    private IEnumerable<string> EnvNames() => Services()
        .SelectMany(s => Get(s, "env") is YamlSequenceNode env ? env.Children.OfType<YamlScalarNode>() : [])
        .Select(n => n.Value ?? "").Where(v => v.Contains('=', StringComparison.Ordinal)).Select(v => v[..v.IndexOf('=', StringComparison.Ordinal)])
        .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

    private string? ForEachService(Action<YamlMappingNode> action)
    {
        foreach (var s in Services())
        {
            action(s);
        }
        return null;
    }

    private string? ForEachDeployment(Action<YamlMappingNode> action)
    {
        foreach (var d in Maps(Get(root, "deployment")).SelectMany(Maps))
        {
            action(d);
        }
        return null;
    }

    private string? ForEachResources(Action<YamlMappingNode> action)
    {
        foreach (var profile in Maps(Profiles("compute")))
        {
            action(Child(profile, "resources")!);
        }
        return null;
    }

    private string? ForEachPlacement(Action<YamlMappingNode> action)
    {
        foreach (var placement in Maps(Profiles("placement")))
        {
            action(placement);
        }
        return null;
    }

    private string? ForEachPrice(Action<YamlMappingNode> action) =>
        ForEachPlacement(p =>
        {
            foreach (var price in Maps(Get(p, "pricing")))
            {
                action(price);
            }
        });

    private YamlNode? Profiles(string section) => Get(root, "profiles") is YamlMappingNode profiles ? Get(profiles, section) : null;

    private static IEnumerable<YamlMappingNode> Maps(YamlNode? node) =>
        node is YamlMappingNode map ? [.. map.Children.Values.OfType<YamlMappingNode>()] : [];

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>The mapping under <paramref name="key"/>, created (or replacing a null) when absent.</summary>
    private static YamlMappingNode? Child(YamlMappingNode map, string key)
    {
        if (Get(map, key) is YamlMappingNode child)
        {
            return child;
        }
        var created = new YamlMappingNode();
        map.Children[new YamlScalarNode(key)] = created;
        return created;
    }

    /// <summary>A plain scalar when YAML would read the text back unchanged; the emitter quotes it otherwise.</summary>
    private static YamlScalarNode Scalar(string value) => new(value);

    private static string[] Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex EnvKey();
}
