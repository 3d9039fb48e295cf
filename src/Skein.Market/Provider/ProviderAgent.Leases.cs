using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market.Runtime;

namespace Skein.Market.Provider;

/// <summary>Why a manifest was refused, for the HTTP answer: the status code and the reason.</summary>
public sealed record ManifestOutcome(int Status, string? Error, string Message, IReadOnlyList<ServiceView> Services)
{
    public bool Accepted => Error is null;
}

/// <summary>The provider's leases: manifests in, workloads up, stopped when the lease closes, restarted when they fail.</summary>
public sealed partial class ProviderAgent
{
    /// <summary>
    /// Takes a manifest from <paramref name="tenant"/> for deployment <paramref name="id"/>: only the deployment's
    /// owner may send it, only while this provider holds an active lease on it, and only if its SHA-256 is the
    /// deployment's version on the ledger. Then the lease's services start.
    /// </summary>
    public async Task<ManifestOutcome> AcceptManifestAsync(DeploymentId id, string json, Address tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (tenant != id.Owner)
        {
            return new ManifestOutcome(403, "not_owner", $"manifest: {tenant} is not the owner of deployment {id}; only {id.Owner} may send its manifest", []);
        }
        var deployment = await _market.GetDeploymentAsync(id, cancellationToken);
        if (deployment is null)
        {
            return new ManifestOutcome(404, "unknown_deployment", $"manifest: deployment {id} does not exist on the ledger", []);
        }
        var hash = new Hash32(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        if (hash != deployment.ManifestHash)
        {
            return new ManifestOutcome(400, "manifest_mismatch", $"manifest: its SHA-256 {hash} differs from the deployment's version {deployment.ManifestHash} on the ledger", []);
        }
        var mine = deployment.Leases.Where(l => l.Id.Provider == _key.Address && l.Status == LeaseStatus.Active).ToArray();
        if (mine.Length == 0)
        {
            return new ManifestOutcome(409, "no_lease", $"manifest: provider {_key.Address} holds no active lease on deployment {id}", []);
        }
        foreach (var lease in mine)
        {
            try
            {
                ManifestReader.Services(json, lease.Group);
            }
            catch (FormatException ex)
            {
                return new ManifestOutcome(400, "invalid_manifest", ex.Message, []);
            }
        }
        _store.PutManifest(id, hash, json, _time.GetUtcNow().ToUnixTimeMilliseconds());
        LogManifest(_logger, id, hash);
        foreach (var lease in mine)
        {
            Event(lease.Id, "manifest", $"manifest {hash} accepted");
        }
        await ReconcileLeasesAsync(cancellationToken);
        var services = new List<ServiceView>();
        foreach (var lease in mine)
        {
            services.AddRange((await LeaseStatusAsync(lease.Id, cancellationToken)).Services);
        }
        return new ManifestOutcome(200, null, $"manifest accepted: {services.Count} workload(s)", services);
    }

    /// <summary>Brings the runtime in line with the ledger: services of active leases with a manifest run; those of closed leases stop.</summary>
    public async Task ReconcileLeasesAsync(CancellationToken cancellationToken)
    {
        await _reconcile.WaitAsync(cancellationToken);
        try
        {
            var leases = await _market.ListLeasesAsync(new LeaseQuery(Provider: _key.Address), cancellationToken);
            var active = leases.Where(l => l.Status == LeaseStatus.Active).ToDictionary(l => l.Id);
            foreach (var lease in active.Values)
            {
                await EnsureRunningAsync(lease, cancellationToken);
            }
            foreach (var w in _store.Workloads().Where(w => w.Stopped == 0 && !active.ContainsKey(w.LeaseId)))
            {
                // The lease closed (by the tenant, for lack of funds, or by us): its services stop within the grace.
                try
                {
                    await _runtime.StopAsync(w.Id, _options.StopGrace, cancellationToken);
                }
                catch (WorkloadNotFoundException)
                {
                    // It never started (an image the runtime cannot run): nothing to stop.
                }
                _store.MarkStopped(w.Id);
                LogStopped(_logger, w.Id, w.Lease);
                Event(w.LeaseId, "stopped", $"{w.Service}[{w.Instance}] stopped: the lease closed");
            }
        }
        finally
        {
            _reconcile.Release();
        }
    }

    private async Task EnsureRunningAsync(LeaseInfo lease, CancellationToken cancellationToken)
    {
        if (_store.Manifest(lease.Id.Deployment) is not { } manifest || manifest.Hash != lease.ManifestHash)
        {
            return;
        }
        IReadOnlyList<ManifestService> services;
        try
        {
            services = ManifestReader.Services(manifest.Json, lease.Group);
        }
        catch (FormatException ex)
        {
            await GiveUpAsync(lease, ex.Message, cancellationToken);
            return;
        }
        var known = _store.Workloads(lease.Id).ToDictionary(w => w.Id);
        foreach (var service in services)
        {
            for (var i = 0; i < service.Count; i++)
            {
                var id = WorkloadId.Create(lease.Id.Owner.ToString(), lease.Id.Dseq, lease.Id.Gseq, lease.Id.Oseq, service.Name, i);
                if (!known.TryGetValue(id, out var stored))
                {
                    _store.AddWorkload(id, lease.Id, service.Name, i);
                    var status = await _runtime.StartAsync(Spec(id, lease, service), cancellationToken);
                    LogStarted(_logger, id, status.State);
                    Event(lease.Id, status.State == WorkloadState.Failed ? "failed" : "started",
                        status.State == WorkloadState.Failed ? $"{service.Name}[{i}] could not start: {status.Error}" : $"{service.Name}[{i}] started as pid {status.Pid}");
                    if (status.State == WorkloadState.Failed)
                    {
                        await GiveUpAsync(lease, $"service {service.Name} could not start: {status.Error}", cancellationToken);
                        return;
                    }
                    continue;
                }
                WorkloadStatus? current;
                try
                {
                    current = await _runtime.GetStatusAsync(id, cancellationToken);
                }
                catch (WorkloadNotFoundException)
                {
                    current = null;
                }
                var failed = current is null || current.State == WorkloadState.Failed || (current.State == WorkloadState.Exited && current.ExitCode is not 0);
                if (!failed)
                {
                    continue;
                }
                if (stored.Restarts >= _options.MaxRestarts)
                {
                    await GiveUpAsync(lease, $"service {service.Name} failed {stored.Restarts + 1} times (last: {current?.Error ?? $"exit code {current?.ExitCode}"})", cancellationToken);
                    return;
                }
                _store.CountRestart(id);
                var restarted = current is null ? await _runtime.StartAsync(Spec(id, lease, service), cancellationToken) : await _runtime.RestartAsync(id, cancellationToken);
                LogRestarted(_logger, id, restarted.State);
                Event(lease.Id, "restarted", $"{service.Name}[{i}] {(current is null ? "was gone" : current.Error ?? $"exited with {current.ExitCode}")}; restarted as pid {restarted.Pid} ({stored.Restarts + 1} of {_options.MaxRestarts})");
            }
        }
    }

    /// <summary>Closes a lease this provider cannot serve; the ledger reopens the group so the tenant can lease elsewhere.</summary>
    private async Task GiveUpAsync(LeaseInfo lease, string reason, CancellationToken cancellationToken)
    {
        LogGaveUp(_logger, lease.Id, reason);
        Event(lease.Id, "closed", $"the provider closed the lease: {reason}");
        await _signer.SendAsync((f, n) => new CloseLease
        {
            From = f, Nonce = n, Owner = lease.Id.Owner, Dseq = lease.Id.Dseq, Gseq = lease.Id.Gseq, Oseq = lease.Id.Oseq, Provider = f,
        }, cancellationToken);
    }

    private static WorkloadSpec Spec(string id, LeaseInfo lease, ManifestService service)
    {
        var env = new Dictionary<string, string>(service.Env, StringComparer.Ordinal)
        {
            ["SKEIN_LEASE"] = lease.Id.ToString(),
            ["SKEIN_SERVICE"] = service.Name,
        };
        return new WorkloadSpec(id, service.Name, service.Image, service.Command, service.Args, env,
            new WorkloadResources(service.CpuMillis, service.MemoryBytes, service.StorageBytes, service.Gpus),
            new Dictionary<string, string> { ["skein.lease"] = lease.Id.ToString(), ["skein.service"] = service.Name });
    }

    /// <summary>The lease's state on the ledger and its services as this provider runs them.</summary>
    public async Task<LeaseStatusView> LeaseStatusAsync(LeaseId id, CancellationToken cancellationToken)
    {
        var lease = (await _market.ListLeasesAsync(new LeaseQuery(Owner: id.Owner, Provider: _key.Address), cancellationToken)).FirstOrDefault(l => l.Id == id);
        var services = new List<ServiceView>();
        foreach (var w in _store.Workloads(id))
        {
            WorkloadStatus? s;
            try
            {
                s = await _runtime.GetStatusAsync(w.Id, cancellationToken);
            }
            catch (WorkloadNotFoundException)
            {
                s = null;
            }
            services.Add(new ServiceView(w.Service, (int)w.Instance, w.Id, (s?.State ?? WorkloadState.Unknown).ToString().ToLowerInvariant(), s?.Pid, s?.ExitCode, s?.StartedAt,
                w.Restarts, s?.LimitNotes ?? [], s?.Error));
        }
        var state = lease is null ? "unknown" : Api.MarketApiMapping.State(lease.Status);
        return new LeaseStatusView(id.ToString(), state, _store.Manifest(id.Deployment) is not null, services) { Events = _store.Events(id, 20) };
    }

    /// <summary>The logs of every workload of a lease, each line prefixed with its service and instance; with follow, until they end.</summary>
    public async IAsyncEnumerable<string> LogsAsync(LeaseId id, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var workloads = _store.Workloads(id);
        if (!follow || workloads.Count == 1)
        {
            foreach (var w in workloads)
            {
                await foreach (var line in _runtime.ReadLogsAsync(w.Id, follow, cancellationToken))
                {
                    yield return $"{w.Service}[{w.Instance}] {line}";
                }
            }
            yield break;
        }
        // Several followed workloads: interleave their lines as they come.
        var channel = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var readers = workloads.Select(async w =>
        {
            await foreach (var line in _runtime.ReadLogsAsync(w.Id, true, cancellationToken))
            {
                await channel.Writer.WriteAsync($"{w.Service}[{w.Instance}] {line}", cancellationToken);
            }
        }).ToArray();
        _ = Task.WhenAll(readers).ContinueWith(t => channel.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return line;
        }
    }

    private void Event(LeaseId lease, string kind, string message) => _store.AddEvent(lease, _time.GetUtcNow().ToUnixTimeMilliseconds(), kind, message);

    /// <summary>The status page.</summary>
    public async Task<ProviderStatusView> StatusAsync(CancellationToken cancellationToken)
    {
        var inventory = await InventoryAsync(cancellationToken);
        var leases = await _market.ListLeasesAsync(new LeaseQuery(Provider: _key.Address, ActiveOnly: true), cancellationToken);
        var capabilities = await _runtime.ProbeAsync(cancellationToken);
        var orders = await _market.ListOpenOrdersAsync(cancellationToken);
        const double GiB = 1L << 30;
        var c = _options.Capacity;
        return new ProviderStatusView(_key.Address.ToString(), _hostUri?.ToString() ?? "", _options.Attributes, _pricing.Name,
            new ResourceView(c.CpuMillis / 1000.0, c.MemoryBytes / GiB, c.StorageBytes / GiB),
            new ResourceView(inventory.CpuMillisFree / 1000.0, inventory.MemoryBytesFree / GiB, inventory.StorageBytesFree / GiB),
            c.Gpus.Select(g => new GpuView(g.Vendor, g.Model, g.Count, inventory.GpusFree(g.Model))).ToArray(),
            _runtime.Name, [$"cpu affinity: {capabilities.CpuAffinity.Detail}", $"memory limit: {capabilities.MemoryLimit.Detail}", $"cpu quota: {capabilities.CpuQuota.Detail}",
                .. capabilities.Notes], leases.Count, _store.Workloads().Count(w => w.Stopped == 0),
            orders.Count(o => o.Bids.Any(b => b.Id.Provider == _key.Address && b.Status == BidStatus.Open)));
    }
}
