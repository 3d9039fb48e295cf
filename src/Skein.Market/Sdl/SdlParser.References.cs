namespace Skein.Market.Sdl;

/// <summary>
/// The rules between sections: every reference resolves, every service is deployed and priced, volumes and
/// mounts agree, endpoints are used, and the manifest will be one Akash's providers accept.
/// </summary>
internal sealed partial class SdlParser
{
    private void CheckReferences()
    {
        CheckDeployments();
        foreach (var name in _serviceNames.Where(n => !_deployedServices.Contains(n)).Order(StringComparer.Ordinal))
        {
            _r.Error("deployment", $"service '{name}' is not deployed anywhere (add deployment.{name}.<placement>: {{profile, count}})");
        }
        CheckServiceReferences();
        CheckEndpoints();
        CheckDenominations();
    }

    private void CheckDeployments()
    {
        var teeByPlacement = new Dictionary<string, (string Tee, string Service)>(StringComparer.Ordinal);
        foreach (var d in _deployments.OrderBy(d => d.Service, StringComparer.Ordinal).ThenBy(d => d.Placement, StringComparer.Ordinal))
        {
            var path = $"deployment.{d.Service}.{d.Placement}";
            if (!_serviceNames.Contains(d.Service))
            {
                _r.Error($"deployment.{d.Service}", $"service '{d.Service}' is not defined in services");
            }
            if (!_placementNames.Contains(d.Placement))
            {
                _r.Error(path, $"placement '{d.Placement}' is not defined in profiles.placement");
            }
            if (!_computeNames.Contains(d.Profile))
            {
                _r.Error($"{path}.profile", $"compute profile '{d.Profile}' is not defined in profiles.compute");
            }
            if (_computeNames.Contains(d.Profile) && _placements.TryGetValue(d.Placement, out var placement) && !placement.Pricing.ContainsKey(d.Profile))
            {
                _r.Error($"profiles.placement.{d.Placement}.pricing", $"no price for compute profile '{d.Profile}', which {path} places here");
            }
            if (!_services.TryGetValue(d.Service, out var service) || !_compute.TryGetValue(d.Profile, out var compute))
            {
                continue;
            }
            CheckVolumes(service, compute);
            if (service.Params?.Tee is { } tee)
            {
                if (tee == "cpu-gpu" && compute.Gpu.Units == 0)
                {
                    _r.Error($"services.{service.Name}.params.tee", $"tee cpu-gpu needs GPUs, and compute profile '{compute.Name}' has none");
                }
                if (teeByPlacement.TryGetValue(d.Placement, out var other) && other.Tee != tee)
                {
                    _r.Error($"services.{service.Name}.params.tee", $"placement '{d.Placement}' already holds service '{other.Service}' with tee {other.Tee}; one placement has one tee type");
                }
                teeByPlacement.TryAdd(d.Placement, (tee, service.Name));
            }
        }
    }

    private void CheckVolumes(SdlService service, SdlComputeProfile compute)
    {
        var paramsPath = $"services.{service.Name}.params.storage";
        foreach (var (name, mount) in service.Storage)
        {
            var volume = compute.Storage.FirstOrDefault(v => v.Name == name);
            if (volume is null)
            {
                _r.Error($"{paramsPath}.{name}", $"volume '{name}' is not declared in profiles.compute.{compute.Name}.resources.storage");
            }
            else if (volume.Class == "ram" && mount.ReadOnly)
            {
                _r.Error($"{paramsPath}.{name}.readOnly", "a ram volume cannot be read-only");
            }
        }
        foreach (var volume in compute.Storage.Where(v => v.Persistent && !service.Storage.ContainsKey(v.Name)))
        {
            _r.Error($"{paramsPath}.{volume.Name}", $"persistent volume '{volume.Name}' of compute profile '{compute.Name}' must be mounted: set {paramsPath}.{volume.Name}.mount");
        }
    }

    private void CheckServiceReferences()
    {
        var hostnames = new Dictionary<string, string>(StringComparer.Ordinal);
        var anyGlobal = false;
        foreach (var service in _services.Values)
        {
            for (var i = 0; i < service.Dependencies.Count; i++)
            {
                if (!_serviceNames.Contains(service.Dependencies[i]))
                {
                    _r.Error($"services.{service.Name}.dependencies[{i}].service", $"service '{service.Dependencies[i]}' is not defined in services");
                }
            }
            for (var i = 0; i < service.Expose.Count; i++)
            {
                var expose = service.Expose[i];
                for (var j = 0; j < expose.To.Count; j++)
                {
                    anyGlobal |= expose.To[j].Global && _deployedServices.Contains(service.Name);
                    if (expose.To[j].Service is { } target && !_serviceNames.Contains(target))
                    {
                        _r.Error($"services.{service.Name}.expose[{i}].to[{j}].service", $"service '{target}' is not defined in services");
                    }
                }
                for (var k = 0; k < expose.Accept.Count; k++)
                {
                    if (!hostnames.TryAdd(expose.Accept[k], service.Name))
                    {
                        _r.Error($"services.{service.Name}.expose[{i}].accept[{k}]", $"hostname '{expose.Accept[k]}' is already accepted by service '{hostnames[expose.Accept[k]]}'");
                    }
                }
            }
        }
        if (_servicesComplete && _services.Count > 0 && !anyGlobal)
        {
            // go/manifest/v2beta3/groups.go: a manifest with zero global services is invalid, and providers refuse it.
            _r.Error("services", "no deployed service exposes a port to the internet (expose: [{port: ..., to: [{global: true}]}]); Akash refuses such a deployment");
        }
    }

    private void CheckEndpoints()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var ports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in _services.Values)
        {
            for (var i = 0; i < service.Expose.Count; i++)
            {
                var expose = service.Expose[i];
                for (var j = 0; j < expose.To.Count; j++)
                {
                    if (expose.To[j].Ip is not { } ip)
                    {
                        continue;
                    }
                    var path = $"services.{service.Name}.expose[{i}].to[{j}].ip";
                    used.Add(ip);
                    if (!_endpoints.ContainsKey(ip))
                    {
                        _r.Error(path, $"endpoint '{ip}' is not defined in endpoints");
                        continue;
                    }
                    var external = expose.As != 0 ? expose.As : expose.Port;
                    var key = $"{ip}-{external}-{expose.Proto}";
                    if (!ports.TryAdd(key, service.Name) && ports[key] != service.Name)
                    {
                        _r.Error(path, $"endpoint '{ip}' port {external}/{expose.Proto} is already used by service '{ports[key]}'");
                    }
                }
            }
        }
        // A service with errors is not read, so its uses are unknown: report unused endpoints only when all were read.
        foreach (var name in _endpoints.Keys.Where(n => _servicesComplete && !used.Contains(n)))
        {
            _r.Error($"endpoints.{name}", "declared but never used (use it in a service's expose: to: [{global: true, ip: " + name + "}])");
        }
    }

    private void CheckDenominations()
    {
        // go/node/deployment/v1beta4/group_validation.go: all groups of a deployment are priced in one denomination.
        (string Denom, string Path)? first = null;
        foreach (var d in _deployments.OrderBy(d => d.Placement, StringComparer.Ordinal).ThenBy(d => d.Service, StringComparer.Ordinal))
        {
            if (!_placements.TryGetValue(d.Placement, out var placement) || !placement.Pricing.TryGetValue(d.Profile, out var price))
            {
                continue;
            }
            var path = $"profiles.placement.{d.Placement}.pricing.{d.Profile}.denom";
            if (first is null)
            {
                first = (price.Denom, path);
            }
            else if (first.Value.Denom != price.Denom)
            {
                _r.Error(path, $"a deployment is priced in one denomination: '{price.Denom}' here, '{first.Value.Denom}' at {first.Value.Path}");
            }
        }
    }
}
