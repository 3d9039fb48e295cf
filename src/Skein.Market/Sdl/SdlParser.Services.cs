using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Sdl;

/// <summary>The <c>services</c> section.</summary>
internal sealed partial class SdlParser
{
    private static readonly string[] ServiceKeys = ["image", "command", "args", "env", "expose", "dependencies", "params", "credentials"];
    private static readonly string[] NextCases = ["error", "timeout", "500", "502", "503", "504", "403", "404", "429", "off"];

    private void ParseServices(YamlNode node)
    {
        if (_r.Map(node, "services") is not { } map)
        {
            _servicesComplete = false;
            return;
        }
        if (map.Children.Count == 0)
        {
            _r.Error("services", "must declare at least one service");
        }
        foreach (var (name, value) in _r.Entries(map, "services"))
        {
            var path = YamlReader.Join("services", name);
            _serviceNames.Add(name);
            var before = _r.Errors.Count;
            if (!ServiceName().IsMatch(name))
            {
                _r.Error(path, "a service name is lower-case letters, digits and '-', starts with a letter and does not end with '-'");
            }
            var service = ParseService(name, value, path);
            if (service is not null && _r.Errors.Count == before)
            {
                _services[name] = service;
            }
            else
            {
                _servicesComplete = false;
            }
        }
    }

    private SdlService? ParseService(string name, YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, ServiceKeys);
        var image = _r.RequiredString(map, path, "image");
        if (image is { Length: 0 })
        {
            _r.Error(YamlReader.Join(path, "image"), "image must not be empty");
        }
        var command = YamlReader.Get(map, "command") is { } c ? _r.StringList(c, YamlReader.Join(path, "command"), nullAllowed: true) : null;
        var args = YamlReader.Get(map, "args") is { } a ? _r.StringList(a, YamlReader.Join(path, "args"), nullAllowed: true) : null;
        var env = YamlReader.Get(map, "env") is { } e ? ParseEnv(e, YamlReader.Join(path, "env")) : null;
        var expose = YamlReader.Get(map, "expose") is { } x ? ParseExposes(x, YamlReader.Join(path, "expose")) : [];
        var dependencies = YamlReader.Get(map, "dependencies") is { } d ? ParseDependencies(d, YamlReader.Join(path, "dependencies")) : [];
        var (storage, parameters) = YamlReader.Get(map, "params") is { } p ? ParseParams(p, YamlReader.Join(path, "params")) : (new SortedDictionary<string, SdlVolumeMount>(StringComparer.Ordinal), null);
        var credentials = YamlReader.Get(map, "credentials") is { } cr ? ParseCredentials(cr, YamlReader.Join(path, "credentials")) : null;
        return image is null ? null : new SdlService(name, image, command, args, env, expose, storage, dependencies, credentials, parameters);
    }

    private List<string>? ParseEnv(YamlNode node, string path)
    {
        if (_r.StringList(node, path, nullAllowed: true) is not { } list)
        {
            return null;
        }
        for (var i = 0; i < list.Count; i++)
        {
            var eq = list[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                _r.Error(YamlReader.Index(path, i), $"'{list[i]}' is not KEY=value");
            }
            else if (!EnvName().IsMatch(list[i][..eq]))
            {
                _r.Error(YamlReader.Index(path, i), $"'{list[i][..eq]}' is not a valid variable name (letters, digits, '_', '-' and '.', not starting with a digit)");
            }
        }
        return list;
    }

    private List<SdlExpose> ParseExposes(YamlNode node, string path)
    {
        var result = new List<SdlExpose>();
        if (YamlReader.IsNull(node) || _r.Seq(node, path) is not { } seq)
        {
            return result;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (ParseExpose(seq.Children[i], YamlReader.Index(path, i)) is { } expose)
            {
                result.Add(expose);
            }
        }
        return result;
    }

    private SdlExpose? ParseExpose(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "port", "as", "proto", "accept", "to", "http_options");
        uint port = 0;
        if (YamlReader.Get(map, "port") is not { } portNode)
        {
            _r.Error(path, "port is required");
        }
        else
        {
            port = Port(portNode, YamlReader.Join(path, "port"), "port");
        }
        var external = YamlReader.Get(map, "as") is { } asNode ? Port(asNode, YamlReader.Join(path, "as"), "as") : 0;
        var proto = "TCP";
        if (YamlReader.Get(map, "proto") is { } protoNode && _r.String(protoNode, YamlReader.Join(path, "proto")) is { } p)
        {
            if (p is "tcp" or "TCP" or "udp" or "UDP")
            {
                proto = p.ToUpperInvariant();
            }
            else
            {
                _r.Error(YamlReader.Join(path, "proto"), $"proto must be tcp or udp, got '{p}'");
            }
        }
        var accept = new List<string>();
        if (YamlReader.Get(map, "accept") is { } acceptNode && _r.StringList(acceptNode, YamlReader.Join(path, "accept"), nullAllowed: false) is { } hosts)
        {
            for (var i = 0; i < hosts.Count; i++)
            {
                if (hosts[i].Length > 253 || !Hostname().IsMatch(hosts[i]))
                {
                    _r.Error(YamlReader.Index(YamlReader.Join(path, "accept"), i), $"'{hosts[i]}' is not a valid hostname (lower-case DNS name)");
                }
            }
            accept = hosts;
        }
        var to = YamlReader.Get(map, "to") is { } toNode ? ParseExposeTo(toNode, YamlReader.Join(path, "to")) : [];
        var http = YamlReader.Get(map, "http_options") is { } h ? ParseHttpOptions(h, YamlReader.Join(path, "http_options")) : SdlHttpOptions.Default;
        return new SdlExpose(port, external, proto, accept, to, http);
    }

    private uint Port(YamlNode node, string path, string key)
    {
        if (_r.Integer(node, path) is not { } value)
        {
            return 0;
        }
        if (value is < 1 or > 65535)
        {
            _r.Error(path, $"{key} must be between 1 and 65535, got {value}");
            return 0;
        }
        return (uint)value;
    }

    private List<SdlExposeTo> ParseExposeTo(YamlNode node, string path)
    {
        var result = new List<SdlExposeTo>();
        if (_r.Seq(node, path) is not { } seq)
        {
            return result;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var itemPath = YamlReader.Index(path, i);
            if (_r.Map(seq.Children[i], itemPath) is not { } map)
            {
                continue;
            }
            _r.OnlyKeys(map, itemPath, "global", "service", "ip");
            var global = YamlReader.Get(map, "global") is { } g && _r.Bool(g, YamlReader.Join(itemPath, "global")) == true;
            var service = YamlReader.Get(map, "service") is { } s ? _r.String(s, YamlReader.Join(itemPath, "service")) : null;
            var ip = YamlReader.Get(map, "ip") is { } ipNode ? _r.String(ipNode, YamlReader.Join(itemPath, "ip")) : null;
            if (!string.IsNullOrEmpty(ip) && !global)
            {
                _r.Error(itemPath, "an IP endpoint needs global: true");
            }
            result.Add(new SdlExposeTo(string.IsNullOrEmpty(service) ? null : service, global, string.IsNullOrEmpty(ip) ? null : ip));
        }
        return result;
    }

    private SdlHttpOptions ParseHttpOptions(YamlNode node, string path)
    {
        var d = SdlHttpOptions.Default;
        if (_r.Map(node, path) is not { } map)
        {
            return d;
        }
        _r.OnlyKeys(map, path, "max_body_size", "read_timeout", "send_timeout", "next_tries", "next_timeout", "next_cases", "proxy_buffer_size");
        // Zero (or absent) means "the default" in Akash's parser, except for next_timeout and proxy_buffer_size.
        uint Bounded(string key, uint max, uint fallback)
        {
            if (YamlReader.Get(map, key) is not { } n || _r.Integer(n, YamlReader.Join(path, key)) is not { } v)
            {
                return fallback;
            }
            if (v < 0 || v > max)
            {
                _r.Error(YamlReader.Join(path, key), $"{key} must be between 0 and {max}, got {v}");
                return fallback;
            }
            return v == 0 ? fallback : (uint)v;
        }
        var cases = d.NextCases;
        if (YamlReader.Get(map, "next_cases") is { } casesNode && _r.StringList(casesNode, YamlReader.Join(path, "next_cases"), nullAllowed: false) is { Count: > 0 } list)
        {
            foreach (var c in list.Where(c => !NextCases.Contains(c, StringComparer.Ordinal)))
            {
                _r.Error(YamlReader.Join(path, "next_cases"), $"unknown case '{c}' (allowed: {string.Join(", ", NextCases)})");
            }
            if (list.Contains("off", StringComparer.Ordinal) && list.Count > 1)
            {
                _r.Error(YamlReader.Join(path, "next_cases"), "'off' cannot be combined with other cases");
            }
            cases = list;
        }
        return new SdlHttpOptions(
            Bounded("max_body_size", 104_857_600, d.MaxBodySize),
            Bounded("read_timeout", 60_000, d.ReadTimeout),
            Bounded("send_timeout", 60_000, d.SendTimeout),
            Bounded("next_tries", uint.MaxValue, d.NextTries),
            Bounded("next_timeout", uint.MaxValue, 0),
            cases,
            Bounded("proxy_buffer_size", 1_048_576, 0));
    }

    private List<string> ParseDependencies(YamlNode node, string path)
    {
        var result = new List<string>();
        if (_r.Seq(node, path) is not { } seq)
        {
            return result;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var itemPath = YamlReader.Index(path, i);
            if (_r.Map(seq.Children[i], itemPath) is { } map)
            {
                _r.OnlyKeys(map, itemPath, "service");
                if (_r.RequiredString(map, itemPath, "service") is { } service)
                {
                    result.Add(service);
                }
            }
        }
        return result;
    }

    private (SortedDictionary<string, SdlVolumeMount> Storage, SdlServiceParams? Params) ParseParams(YamlNode node, string path)
    {
        var storage = new SortedDictionary<string, SdlVolumeMount>(StringComparer.Ordinal);
        if (_r.Map(node, path) is not { } map)
        {
            return (storage, null);
        }
        _r.OnlyKeys(map, path, "storage", "permissions", "tee");
        if (YamlReader.Get(map, "storage") is { } storageNode && _r.Map(storageNode, YamlReader.Join(path, "storage")) is { } volumes)
        {
            var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in _r.Entries(volumes, YamlReader.Join(path, "storage")))
            {
                var volumePath = YamlReader.Join(YamlReader.Join(path, "storage"), name);
                if (_r.Map(value, volumePath) is not { } volume)
                {
                    continue;
                }
                _r.OnlyKeys(volume, volumePath, "mount", "readOnly");
                var readOnly = YamlReader.Get(volume, "readOnly") is { } ro && _r.Bool(ro, YamlReader.Join(volumePath, "readOnly")) == true;
                if (_r.RequiredString(volume, volumePath, "mount", "an absolute path") is not { } mount)
                {
                    continue;
                }
                if (!mount.StartsWith('/'))
                {
                    _r.Error(YamlReader.Join(volumePath, "mount"), $"mount must be an absolute path, got '{mount}'");
                }
                else if (mounts.TryGetValue(mount, out var other))
                {
                    _r.Error(YamlReader.Join(volumePath, "mount"), $"mount '{mount}' is already used by volume '{other}'");
                }
                else
                {
                    mounts[mount] = name;
                    storage[name] = new SdlVolumeMount(mount, readOnly);
                }
            }
        }
        List<string>? read = null;
        if (YamlReader.Get(map, "permissions") is { } permNode && _r.Map(permNode, YamlReader.Join(path, "permissions")) is { } perms)
        {
            var permPath = YamlReader.Join(path, "permissions");
            _r.OnlyKeys(perms, permPath, "read");
            if (YamlReader.Get(perms, "read") is { } readNode && _r.StringList(readNode, YamlReader.Join(permPath, "read"), nullAllowed: false) is { } list)
            {
                foreach (var item in list.Where(item => item is not ("deployment" or "logs" or "events")))
                {
                    _r.Error(YamlReader.Join(permPath, "read"), $"unknown permission '{item}' (allowed: deployment, logs, events)");
                }
                read = list;
            }
        }
        string? tee = null;
        if (YamlReader.Get(map, "tee") is { } teeNode && _r.String(teeNode, YamlReader.Join(path, "tee")) is { } t)
        {
            if (t is "cpu" or "cpu-gpu")
            {
                tee = t;
            }
            else
            {
                _r.Error(YamlReader.Join(path, "tee"), $"tee must be cpu or cpu-gpu, got '{t}'");
            }
        }
        return (storage, new SdlServiceParams(read, tee));
    }

    private SdlCredentials? ParseCredentials(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "host", "email", "username", "password");
        var host = _r.RequiredString(map, path, "host");
        var username = _r.RequiredString(map, path, "username");
        var password = _r.RequiredString(map, path, "password");
        var email = YamlReader.Get(map, "email") is { } e ? _r.String(e, YamlReader.Join(path, "email")) : "";
        if (host is not null && host.Trim().Length == 0)
        {
            _r.Error(YamlReader.Join(path, "host"), "host must not be empty");
        }
        if (username is not null && username.Trim().Length == 0)
        {
            _r.Error(YamlReader.Join(path, "username"), "username must not be empty");
        }
        if (password is not null && password.Trim().Length < 6)
        {
            // The length is all we say: the value is a secret.
            _r.Error(YamlReader.Join(path, "password"), "password must have at least 6 characters");
        }
        if (email is { Length: > 0 and < 5 })
        {
            _r.Error(YamlReader.Join(path, "email"), "email must have at least 5 characters");
        }
        return host is null || username is null || password is null ? null
            : new SdlCredentials(host.Trim(), (email ?? "").Trim(), username.Trim(), password.Trim());
    }

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex ServiceName();

    [GeneratedRegex("^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Hostname();
}
