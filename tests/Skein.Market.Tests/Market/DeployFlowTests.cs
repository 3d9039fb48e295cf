using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Deploy;
using Skein.Market.Provider;

namespace Skein.Market.Tests.Market;

/// <summary>`skein deploy`'s flow against a local market of real provider agents, through the market's HTTP API.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeployFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_deployment_leases_the_cheaper_provider_runs_its_service_and_stops_it_when_closed()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "cheap", "dear");
        var cheap = await m.StartProviderAsync("cheap", cpuPrice: 600);
        var dear = await m.StartProviderAsync("dear", cpuPrice: 900);

        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group(price: "1000")), MarketFixture.Options(), null, Ct);

        Assert.True(outcome.Ok, outcome.Error);
        var lease = Assert.Single(outcome.Leases);
        Assert.Equal(cheap.Agent.Address, lease.Lease.Provider);
        Assert.Equal(600 * m.Rules.BaseUnitsPerDenomUnit, lease.PricePerBlock);
        Assert.True(lease.Up);
        var service = Assert.Single(lease.Services);
        Assert.Equal("running", service.State);
        Assert.Equal(600m * 3_600_000 / m.Rules.BlockIntervalMs, outcome.PricePerHour);
        Assert.NotNull(outcome.RunwayHours);
        Assert.Equal(BidStatus.Lost, (await m.Ledger.GetDeploymentAsync(outcome.Deployment, Ct))!.Groups[0].Orders[0].Bids.Single(b => b.Id.Provider == dear.Agent.Address).Status);

        var lines = new List<string>();
        await foreach (var line in m.Providers.LogsAsync(cheap.Uri, MarketFixture.Key("tenant"), lease.Lease, follow: false, Ct))
        {
            lines.Add(line);
        }
        Assert.Contains("node[0] sleeper up as node", lines);

        using var signer = new MarketSigner(m.Market, MarketFixture.Key("tenant"));
        await signer.SendAsync((f, n) => new Skein.Ledger.Transactions.CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = outcome.Deployment.Dseq }, Ct);
        // The runtime reports the service exited a moment before the agent records the "stopped" event: wait for both.
        Assert.True(await MarketFixture.EventuallyAsync(async () =>
        {
            var status = await m.Providers.LeaseStatusAsync(cheap.Uri, lease.Lease, Ct);
            return status.Services.All(s => s.State == "exited") && status.Events.Any(e => e.Kind == "stopped");
        }), "the workload did not stop after the lease closed");
        var events = (await m.Providers.LeaseStatusAsync(cheap.Uri, lease.Lease, Ct)).Events.Select(e => e.Kind).ToArray();
        Assert.Equal(["manifest", "started", "stopped"], events);
    }

    [Fact]
    public async Task The_provider_refuses_a_manifest_whose_hash_differs_or_that_the_owner_did_not_send()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p", "mallory");
        var p = await m.StartProviderAsync("p", cpuPrice: 600);
        var plan = MarketFixture.Plan(MarketFixture.Group());
        var outcome = await m.Flow("tenant").RunAsync(plan, MarketFixture.Options(), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);

        var altered = plan.ManifestJson.Replace("SKEIN_ROLE=trainer", "SKEIN_ROLE=validator", StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<ProviderRefusedException>(() =>
            m.Providers.SendManifestAsync(p.Uri, p.Agent.Address, MarketFixture.Key("tenant"), outcome.Deployment, altered, Ct));
        Assert.Equal("manifest_mismatch", ex.Error);
        Assert.Contains("differs from the deployment's version", ex.Message, StringComparison.Ordinal);

        ex = await Assert.ThrowsAsync<ProviderRefusedException>(() =>
            m.Providers.SendManifestAsync(p.Uri, p.Agent.Address, MarketFixture.Key("mallory"), outcome.Deployment, plan.ManifestJson, Ct));
        Assert.Equal("not_owner", ex.Error);

        ex = await Assert.ThrowsAsync<ProviderRefusedException>(() =>
            m.Providers.SendManifestAsync(p.Uri, p.Agent.Address, MarketFixture.Key("tenant"), new DeploymentId(MarketFixture.Key("tenant").Address, 1), plan.ManifestJson, Ct));
        Assert.Equal("unknown_deployment", ex.Error);
    }

    [Fact]
    public async Task A_lease_whose_escrow_runs_out_closes_with_insufficient_funds_and_its_workload_stops()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        var p = await m.StartProviderAsync("p", cpuPrice: 200);
        // 4000 uact of deposit at 200 uact a block: twenty blocks of 200 ms, time for the service to count as up first.
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group()), MarketFixture.Options(4_000 * m.Rules.BaseUnitsPerDenomUnit), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
        var lease = outcome.Leases[0].Lease;
        Assert.True(await MarketFixture.EventuallyAsync(async () =>
            (await m.Ledger.ListLeasesAsync(new LeaseQuery(Provider: p.Agent.Address), Ct)).Single().Status == LeaseStatus.InsufficientFunds), "the lease did not run dry");
        var closed = (await m.Ledger.ListLeasesAsync(new LeaseQuery(Provider: p.Agent.Address), Ct)).Single();
        Assert.Equal("insufficient_funds", closed.CloseReason);
        Assert.Equal(4_000 * m.Rules.BaseUnitsPerDenomUnit, closed.Paid);
        Assert.True(await MarketFixture.EventuallyAsync(async () =>
            (await m.Providers.LeaseStatusAsync(p.Uri, lease, Ct)).Services.All(s => s.State == "exited")), "the workload did not stop when the escrow ran dry");
        var status = await m.Ledger.GetStatusAsync(Ct);
        Assert.Equal(status.GenesisSupply + status.Emitted - status.Burned, Tokens.Whole(1_000) * 2);
    }

    [Fact]
    public async Task A_restarted_provider_adopts_the_workload_it_left_running()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        var p = await m.StartProviderAsync("p", cpuPrice: 300);
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group()), MarketFixture.Options(), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
        var pid = outcome.Leases[0].Services[0].Pid;
        Assert.NotNull(pid);

        await m.CrashAsync(p);
        var again = await m.StartProviderAsync("p", cpuPrice: 300);
        var status = await m.Providers.LeaseStatusAsync(again.Uri, outcome.Leases[0].Lease, Ct);
        Assert.True(status.Running);
        Assert.Equal(pid, status.Services[0].Pid);
    }

    [Fact]
    public async Task A_service_that_keeps_failing_is_given_up_and_the_group_reopens()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        var p = await m.StartProviderAsync("p", cpuPrice: 300);
        var options = MarketFixture.Options() with { UpTimeout = TimeSpan.FromSeconds(1) };
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group(), image: "test/crasher:1"), options, null, Ct);
        Assert.False(outcome.Ok);
        Assert.True(await MarketFixture.EventuallyAsync(async () =>
            (await m.Ledger.GetDeploymentAsync(outcome.Deployment, Ct))!.Groups[0].Orders.Count == 2), "the provider did not give the lease up");
        var first = (await m.Ledger.GetDeploymentAsync(outcome.Deployment, Ct))!.Groups[0].Orders[0].Lease!;
        Assert.Equal("provider_closed", first.CloseReason);
        var events = (await m.Providers.LeaseStatusAsync(p.Uri, first.Id, Ct)).Events;
        Assert.Equal(5, events.Count(e => e.Kind == "restarted"));
        Assert.Contains("exited with 3", events.First(e => e.Kind == "restarted").Message, StringComparison.Ordinal);
        Assert.StartsWith("the provider closed the lease: service node failed 6 times", events.Single(e => e.Kind == "closed").Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_the_runtime_cannot_run_gives_the_lease_up_at_once()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        await m.StartProviderAsync("p", cpuPrice: 300);
        var options = MarketFixture.Options() with { UpTimeout = TimeSpan.FromSeconds(1) };
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group(), image: "nginx:1.27"), options, null, Ct);
        Assert.False(outcome.Ok);
        Assert.True(await MarketFixture.EventuallyAsync(async () =>
            (await m.Ledger.GetDeploymentAsync(outcome.Deployment, Ct))!.Groups[0].Orders[0].Lease!.Status == LeaseStatus.Closed));
    }
}
