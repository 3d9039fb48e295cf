using System.Globalization;

namespace Skein.Market.Sdl;

/// <summary>The manifest: what the tenant sends the provider once a lease exists.</summary>
public sealed partial class SdlDocument
{
    // Akash's endpoint kinds (akash.base.resources.v1beta4.Endpoint.Kind).
    private const uint SharedHttp = 0, RandomPort = 1, LeasedIp = 2;

    /// <summary>
    /// Builds Akash's manifest as canonical JSON and hashes it. Groups and services are sorted by name, so the
    /// order of keys and services in the YAML does not change the hash; an image, a command or an env value does.
    /// The manifest holds secrets (env values, registry credentials) and goes only to the lease's provider.
    /// </summary>
    public SdlManifest ToManifest() => SdlManifest.FromJson(CanonicalJson.Write(ManifestTree()));

    private List<object?> ManifestTree()
    {
        var sequence = EndpointSequenceNumbers();
        var groups = new List<object?>();
        foreach (var group in GroupNames)
        {
            var placed = Deployments.Where(d => d.Placement == group).OrderBy(d => d.Service, StringComparer.Ordinal).ToList();
            // Akash numbers a group's resources by compute profile, in the order services first use them.
            var ids = placed.Select(d => d.Profile).Distinct().Select((p, i) => (p, i)).ToDictionary(x => x.p, x => (uint)(x.i + 1), StringComparer.Ordinal);
            var services = placed.Select(d => ManifestService(Services[d.Service], ComputeProfiles[d.Profile], ids[d.Profile], d.Count, sequence)).ToList<object?>();
            groups.Add(new Dictionary<string, object?> { ["name"] = group, ["services"] = services });
        }
        return groups;
    }

    private static Dictionary<string, object?> ManifestService(SdlService s, SdlComputeProfile profile, uint id, uint count, IReadOnlyDictionary<string, uint> sequence)
    {
        var exposes = ManifestExposes(s, sequence);
        var service = new Dictionary<string, object?>
        {
            ["name"] = s.Name,
            ["image"] = s.Image,
            ["command"] = NullIfEmpty(s.Command),
            ["args"] = NullIfEmpty(s.Args),
            ["env"] = NullIfEmpty(s.Env),
            ["count"] = count,
            ["expose"] = exposes.Select(e => e.Json).ToList(),
            ["resources"] = Resources(profile, id, exposes),
            ["credentials"] = s.Credentials is { } c
                ? new Dictionary<string, object?> { ["host"] = c.Host, ["email"] = c.Email, ["username"] = c.Username, ["password"] = c.Password }
                : null,
        };
        if (s.Params is { } p)
        {
            var parameters = new Dictionary<string, object?>
            {
                ["storage"] = s.Storage.Count == 0 ? null : s.Storage
                    .Select(kv => (object?)new Dictionary<string, object?> { ["name"] = kv.Key, ["mount"] = kv.Value.Mount, ["readOnly"] = kv.Value.ReadOnly })
                    .ToList(),
            };
            if (p.PermissionsRead is { Count: > 0 } read)
            {
                parameters["permissions"] = new Dictionary<string, object?> { ["read"] = read };
            }
            if (p.Tee is { } tee)
            {
                parameters["tee"] = new Dictionary<string, object?> { ["type"] = tee, ["attestation"] = true };
            }
            service["params"] = parameters;
        }
        return service;
    }

    private sealed record ManifestExpose(string Service, uint Port, string Proto, bool Global, uint External, string Ip, uint Sequence, Dictionary<string, object?> Json);

    private static List<ManifestExpose> ManifestExposes(SdlService s, IReadOnlyDictionary<string, uint> sequence)
    {
        var result = new List<ManifestExpose>();
        foreach (var e in s.Expose)
        {
            // An expose without `to` is still a port of the container, reachable by nobody outside it (Akash's Go parser).
            IEnumerable<SdlExposeTo> targets = e.To.Count > 0 ? e.To : [new SdlExposeTo(null, false, null)];
            foreach (var to in targets)
            {
                var seq = to.Global && to.Ip is { } ip ? sequence.GetValueOrDefault(ip) : 0;
                var http = new Dictionary<string, object?>
                {
                    ["maxBodySize"] = e.HttpOptions.MaxBodySize,
                    ["readTimeout"] = e.HttpOptions.ReadTimeout,
                    ["sendTimeout"] = e.HttpOptions.SendTimeout,
                    ["nextTries"] = e.HttpOptions.NextTries,
                    ["nextTimeout"] = e.HttpOptions.NextTimeout,
                    ["nextCases"] = e.HttpOptions.NextCases,
                };
                if (e.HttpOptions.ProxyBufferSize > 0)
                {
                    // Omitted when unset, as Akash does, so manifests stay byte-identical for providers predating it.
                    http["proxyBufferSize"] = e.HttpOptions.ProxyBufferSize;
                }
                var json = new Dictionary<string, object?>
                {
                    ["port"] = e.Port,
                    ["externalPort"] = e.As,
                    ["proto"] = e.Proto,
                    ["service"] = to.Service ?? "",
                    ["global"] = to.Global,
                    ["hosts"] = NullIfEmpty(e.Accept),
                    ["httpOptions"] = http,
                    ["ip"] = to.Ip ?? "",
                    ["endpointSequenceNumber"] = seq,
                };
                result.Add(new ManifestExpose(to.Service ?? "", e.Port, e.Proto, to.Global, e.As, to.Ip ?? "", seq, json));
            }
        }
        // Akash's order: service, port, protocol, then global before local.
        return [.. result.OrderBy(x => x.Service, StringComparer.Ordinal).ThenBy(x => x.Port).ThenBy(x => x.Proto, StringComparer.Ordinal).ThenBy(x => x.Global ? 0 : 1)];
    }

    private static Dictionary<string, object?> Resources(SdlComputeProfile profile, uint id, List<ManifestExpose> exposes)
    {
        var cpu = new Dictionary<string, object?> { ["units"] = Val(profile.CpuMillis) };
        if (profile.CpuArch is { } arch)
        {
            cpu["attributes"] = Attributes([("arch", arch)]);
        }
        var gpu = new Dictionary<string, object?> { ["units"] = Val(profile.Gpu.Units) };
        if (profile.Gpu.Models.Count > 0)
        {
            gpu["attributes"] = Attributes(profile.Gpu.Models.Select(m =>
                ($"vendor/{m.Vendor}/model/{m.Model}{(m.Ram is null ? "" : "/ram/" + m.Ram)}{(m.Interface is null ? "" : "/interface/" + m.Interface)}", "true")));
        }
        var storage = profile.Storage.Select(v =>
        {
            var volume = new Dictionary<string, object?> { ["name"] = v.Name, ["size"] = Val(v.Bytes) };
            if (v.HasAttributes)
            {
                var attrs = new List<(string, string)> { ("persistent", v.Persistent ? "true" : "false") };
                if (v.Class is { } cls)
                {
                    attrs.Add(("class", cls));
                }
                volume["attributes"] = Attributes(attrs);
            }
            return (object?)volume;
        }).ToList();
        var endpoints = new List<(uint Kind, uint Seq)>();
        foreach (var e in exposes.Where(e => e.Global))
        {
            var external = e.External != 0 ? e.External : e.Port;
            endpoints.Add((e.Proto == "TCP" && external == 80 ? SharedHttp : RandomPort, 0));
            if (e.Ip.Length > 0)
            {
                endpoints.Add((LeasedIp, e.Sequence));
            }
        }
        return new Dictionary<string, object?>
        {
            ["id"] = id,
            ["cpu"] = cpu,
            ["memory"] = new Dictionary<string, object?> { ["size"] = Val(profile.MemoryBytes) },
            ["storage"] = storage,
            ["gpu"] = gpu,
            ["endpoints"] = endpoints.Select(ep =>
            {
                var json = new Dictionary<string, object?> { ["sequence_number"] = ep.Seq };
                if (ep.Kind != SharedHttp)
                {
                    json["kind"] = ep.Kind; // Go omits a zero kind
                }
                return (object?)json;
            }).ToList(),
        };
    }

    /// <summary>Akash numbers leased-IP endpoints 1, 2, ... in the sorted order of their names.</summary>
    private Dictionary<string, uint> EndpointSequenceNumbers()
    {
        var names = Services.Values.SelectMany(s => s.Expose).SelectMany(e => e.To)
            .Where(t => t.Global && t.Ip is not null).Select(t => t.Ip!).Order(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, uint>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            result[names[i]] = (uint)(i + 1);
        }
        return result;
    }

    private static Dictionary<string, object?> Val(ulong value) => new() { ["val"] = value.ToString(CultureInfo.InvariantCulture) };

    private static List<object?> Attributes(IEnumerable<(string Key, string Value)> pairs) =>
        [.. pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (object?)new Dictionary<string, object?> { ["key"] = p.Key, ["value"] = p.Value })];

    private static IReadOnlyList<string>? NullIfEmpty(IReadOnlyList<string>? list) => list is { Count: > 0 } ? list : null;
}
