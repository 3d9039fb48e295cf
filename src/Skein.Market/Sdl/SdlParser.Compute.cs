using System.Globalization;
using Skein.Ledger.Market;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Sdl;

/// <summary><c>profiles.compute</c>: CPU, memory, storage and GPU of one instance, within the per-instance limits of Akash's chain.</summary>
internal sealed partial class SdlParser
{
    // Akash's per-instance limits (go/node/deployment/v1beta4/validation_config.go in chain-sdk).
    private const ulong MinCpuMillis = 10, MaxCpuMillis = 384_000;
    private const ulong MinMemory = 1UL << 20, MaxMemory = 2UL << 40;
    private const ulong MinStorage = 5UL << 20, MaxStorage = 32UL << 40;
    private const uint MaxGpus = 24;
    private static readonly string[] StorageClasses = ["default", "beta1", "beta2", "beta3", "ram"];

    private void ParseProfiles(YamlNode node)
    {
        if (_r.Map(node, "profiles") is not { } map)
        {
            return;
        }
        _r.OnlyKeys(map, "profiles", "compute", "placement");
        if (YamlReader.Get(map, "compute") is { } compute)
        {
            ParseCompute(compute);
        }
        else
        {
            _r.Error("profiles", "compute is required");
        }
        if (YamlReader.Get(map, "placement") is { } placement)
        {
            ParsePlacements(placement);
        }
        else
        {
            _r.Error("profiles", "placement is required");
        }
    }

    private void ParseCompute(YamlNode node)
    {
        if (_r.Map(node, "profiles.compute") is not { } map)
        {
            return;
        }
        foreach (var (name, value) in _r.Entries(map, "profiles.compute"))
        {
            var path = YamlReader.Join("profiles.compute", name);
            _computeNames.Add(name);
            var before = _r.Errors.Count;
            if (ParseComputeProfile(name, value, path) is { } profile && _r.Errors.Count == before)
            {
                _compute[name] = profile;
            }
        }
    }

    private SdlComputeProfile? ParseComputeProfile(string name, YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "resources");
        if (YamlReader.Get(map, "resources") is not { } resNode)
        {
            _r.Error(path, "resources is required");
            return null;
        }
        path = YamlReader.Join(path, "resources");
        if (_r.Map(resNode, path) is not { } res)
        {
            return null;
        }
        _r.OnlyKeys(res, path, "cpu", "memory", "storage", "gpu");
        foreach (var key in (string[])["cpu", "memory", "storage"])
        {
            if (!YamlReader.Has(res, key))
            {
                _r.Error(path, $"{key} is required");
            }
        }
        var (millis, arch) = YamlReader.Get(res, "cpu") is { } cpu ? ParseCpu(cpu, YamlReader.Join(path, "cpu")) : (0UL, null);
        var memory = YamlReader.Get(res, "memory") is { } mem ? ParseMemory(mem, YamlReader.Join(path, "memory")) : 0;
        var storage = YamlReader.Get(res, "storage") is { } st ? ParseStorage(st, YamlReader.Join(path, "storage")) : [];
        var gpu = YamlReader.Get(res, "gpu") is { } g ? ParseGpu(g, YamlReader.Join(path, "gpu")) : SdlGpu.None;
        return new SdlComputeProfile(name, millis, arch, memory, storage, gpu);
    }

    private (ulong Millis, string? Arch) ParseCpu(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return (0, null);
        }
        _r.OnlyKeys(map, path, "units", "attributes");
        string? arch = null;
        if (YamlReader.Get(map, "attributes") is { } attrNode && _r.Map(attrNode, YamlReader.Join(path, "attributes")) is { } attrs)
        {
            _r.OnlyKeys(attrs, YamlReader.Join(path, "attributes"), "arch");
            arch = YamlReader.Get(attrs, "arch") is { } a ? _r.String(a, YamlReader.Join(path, "attributes.arch")) : null;
        }
        if (YamlReader.Get(map, "units") is not { } unitsNode)
        {
            _r.Error(path, "units is required");
            return (0, arch);
        }
        var unitsPath = YamlReader.Join(path, "units");
        if (_r.String(unitsNode, unitsPath, "a number of CPUs (1, 0.5) or millicores (\"500m\")") is not { } text)
        {
            return (0, arch);
        }
        if (text.StartsWith('-'))
        {
            _r.Error(path, $"units must be > 0, got {text}");
            return (0, arch);
        }
        if (!SdlUnits.TryParseCpu(text, out var millis))
        {
            _r.Error(unitsPath, $"'{text}' is not a number of CPUs (1, 0.5, 0.001) or millicores (\"500m\")");
            return (0, arch);
        }
        if (millis == 0)
        {
            _r.Error(path, $"units must be > 0, got {text}");
        }
        else if (millis < MinCpuMillis)
        {
            _r.Error(unitsPath, $"units must be at least 10m (0.01 CPU) per instance, got {text}");
        }
        else if (millis > MaxCpuMillis)
        {
            _r.Error(unitsPath, $"units must be at most 384 CPUs per instance (Akash's limit), got {text}");
        }
        return (millis, arch);
    }

    private ulong ParseMemory(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return 0;
        }
        _r.OnlyKeys(map, path, "size");
        return _r.RequiredString(map, path, "size") is { } size ? Size(size, YamlReader.Join(path, "size"), MinMemory, MaxMemory) : 0;
    }

    private ulong Size(string text, string path, ulong min, ulong max)
    {
        if (!SdlUnits.TryParseSize(text, out var bytes))
        {
            _r.Error(path, $"'{text}' is not a size (a number with an optional suffix {SdlUnits.SuffixList})");
            return 0;
        }
        if (bytes < min || bytes > max)
        {
            _r.Error(path, $"size must be between {SdlUnits.FormatSize(min)} and {SdlUnits.FormatSize(max)} per instance, got {text}");
        }
        return bytes;
    }

    private List<SdlVolume> ParseStorage(YamlNode node, string path)
    {
        var volumes = new List<SdlVolume>();
        if (node is YamlMappingNode single)
        {
            // One volume written as a mapping is the root volume, named "default" whatever it says.
            if (ParseVolume(single, path, single: true) is { } v)
            {
                volumes.Add(v);
            }
            return volumes;
        }
        if (_r.Seq(node, path, "a volume or a list of volumes") is not { } seq)
        {
            return volumes;
        }
        if (seq.Children.Count == 0)
        {
            _r.Error(path, "must declare at least one volume");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var itemPath = YamlReader.Index(path, i);
            if (_r.Map(seq.Children[i], itemPath) is not { } map || ParseVolume(map, itemPath, single: false) is not { } volume)
            {
                continue;
            }
            if (!names.Add(volume.Name))
            {
                _r.Error(YamlReader.Join(itemPath, "name"), $"volume name '{volume.Name}' is used twice");
            }
            volumes.Add(volume);
        }
        return volumes;
    }

    private SdlVolume? ParseVolume(YamlMappingNode map, string path, bool single)
    {
        _r.OnlyKeys(map, path, "name", "size", "attributes");
        var name = "default";
        if (!single && YamlReader.Get(map, "name") is { } nameNode && _r.String(nameNode, YamlReader.Join(path, "name")) is { Length: > 0 } n)
        {
            name = n;
        }
        var size = _r.RequiredString(map, path, "size");
        var bytes = size is null ? 0 : Size(size, YamlReader.Join(path, "size"), MinStorage, MaxStorage);
        string? storageClass = null;
        var persistent = false;
        var hasAttributes = false;
        if (YamlReader.Get(map, "attributes") is { } attrNode && _r.Map(attrNode, YamlReader.Join(path, "attributes")) is { } attrs)
        {
            hasAttributes = true;
            var attrPath = YamlReader.Join(path, "attributes");
            _r.OnlyKeys(attrs, attrPath, "class", "persistent");
            if (YamlReader.Get(attrs, "persistent") is { } p)
            {
                persistent = Persistent(p, YamlReader.Join(attrPath, "persistent"));
            }
            if (YamlReader.Get(attrs, "class") is { } c && _r.String(c, YamlReader.Join(attrPath, "class")) is { } cls)
            {
                if (!StorageClasses.Contains(cls, StringComparer.Ordinal))
                {
                    _r.Error(YamlReader.Join(attrPath, "class"), $"class must be one of {string.Join(", ", StorageClasses)}, got '{cls}'");
                }
                else if (cls == "ram" && persistent)
                {
                    _r.Error(attrPath, "ram storage cannot be persistent");
                }
                else if (cls != "ram" && !persistent)
                {
                    _r.Error(attrPath, $"class {cls} needs persistent: true (only ram storage is not persistent)");
                }
                storageClass = cls;
            }
            else if (persistent)
            {
                storageClass = "default";
            }
        }
        return size is null ? null : new SdlVolume(name, bytes, storageClass, persistent, hasAttributes);
    }

    /// <summary><c>persistent</c> as Akash reads it: a boolean, or one of the strings true/false/yes/no/on/off.</summary>
    private bool Persistent(YamlNode node, string path)
    {
        if (node is YamlScalarNode s && !YamlReader.IsNull(s))
        {
            switch (s.Value)
            {
                case "true" or "True" or "TRUE" or "yes" or "on":
                    return true;
                case "false" or "False" or "FALSE" or "no" or "off":
                    return false;
            }
        }
        _r.Error(path, $"persistent must be true or false, got {YamlReader.Describe(node)}");
        return false;
    }

    private SdlGpu ParseGpu(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return SdlGpu.None;
        }
        _r.OnlyKeys(map, path, "units", "attributes");
        uint units = 0;
        if (YamlReader.Get(map, "units") is { } unitsNode && _r.String(unitsNode, YamlReader.Join(path, "units"), "a whole number of GPUs") is { } text)
        {
            if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out units))
            {
                _r.Error(YamlReader.Join(path, "units"), $"units must be a whole number of GPUs, got '{text}'");
            }
            else if (units > MaxGpus)
            {
                _r.Error(YamlReader.Join(path, "units"), $"units must be at most {MaxGpus} per instance (Akash's limit), got {units}");
            }
        }
        var attrNode = YamlReader.Get(map, "attributes");
        if (attrNode is null)
        {
            if (units > 0)
            {
                _r.Error(path, "attributes are required when units > 0 (attributes.vendor.nvidia: a list of models, or null for any model)");
            }
            return new SdlGpu(units, []);
        }
        if (units == 0)
        {
            _r.Error(path, "units must be > 0 when attributes are set");
        }
        return new SdlGpu(units, ParseGpuAttributes(attrNode, YamlReader.Join(path, "attributes")));
    }

    private List<GpuModel> ParseGpuAttributes(YamlNode node, string path)
    {
        var models = new List<GpuModel>();
        if (_r.Map(node, path) is not { } map)
        {
            return models;
        }
        _r.OnlyKeys(map, path, "vendor");
        if (YamlReader.Get(map, "vendor") is not { } vendorNode)
        {
            _r.Error(path, "vendor is required (vendor.nvidia: a list of models, or null for any model)");
            return models;
        }
        var vendorPath = YamlReader.Join(path, "vendor");
        if (_r.Map(vendorNode, vendorPath) is not { } vendors)
        {
            return models;
        }
        if (vendors.Children.Count == 0)
        {
            _r.Error(vendorPath, "at least one vendor is required (nvidia)");
        }
        foreach (var (vendor, value) in _r.Entries(vendors, vendorPath))
        {
            var modelsPath = YamlReader.Join(vendorPath, vendor);
            if (vendor != "nvidia")
            {
                _r.Error(modelsPath, $"unknown GPU vendor '{vendor}' (Akash's SDL knows nvidia)");
                continue;
            }
            if (YamlReader.IsNull(value))
            {
                models.Add(new GpuModel(vendor, "*"));
                continue;
            }
            if (_r.Seq(value, modelsPath, "a list of models, or null for any model") is not { } seq)
            {
                continue;
            }
            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (ParseGpuModel(vendor, seq.Children[i], YamlReader.Index(modelsPath, i)) is { } model)
                {
                    models.Add(model);
                }
            }
            if (seq.Children.Count == 0)
            {
                // Akash's Go parser reads an empty list as "any model".
                models.Add(new GpuModel(vendor, "*"));
            }
        }
        return models;
    }

    private GpuModel? ParseGpuModel(string vendor, YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "model", "ram", "interface");
        var model = _r.RequiredString(map, path, "model");
        string? ram = null;
        if (YamlReader.Get(map, "ram") is { } ramNode && _r.String(ramNode, YamlReader.Join(path, "ram")) is { } ramText)
        {
            if (SdlUnits.TryParseSize(ramText, out var bytes, binaryOnly: true))
            {
                // Akash's Go parser names the model by whole Gi (gpu.go), whatever suffix was written.
                ram = (bytes >> 30).ToString(CultureInfo.InvariantCulture) + "Gi";
            }
            else
            {
                _r.Error(YamlReader.Join(path, "ram"), $"ram must be a size with a binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), got '{ramText}'");
            }
        }
        string? iface = null;
        if (YamlReader.Get(map, "interface") is { } ifNode && _r.String(ifNode, YamlReader.Join(path, "interface")) is { } i)
        {
            if (i is "pcie" or "sxm")
            {
                iface = i;
            }
            else
            {
                _r.Error(YamlReader.Join(path, "interface"), $"interface must be pcie or sxm, got '{i}'");
            }
        }
        if (model is { Length: 0 })
        {
            _r.Error(YamlReader.Join(path, "model"), "model must not be empty");
        }
        return model is null ? null : new GpuModel(vendor, model, ram, iface);
    }
}
