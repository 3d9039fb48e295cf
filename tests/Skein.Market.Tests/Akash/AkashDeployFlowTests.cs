using System.Text.Json.Nodes;
using Skein.Market.Akash;

namespace Skein.Market.Tests.Akash;

public sealed class AkashDeployFlowTests : FakeConsoleTests
{
    private const string Dseq = "1779436800123";
    private const string Dseq2 = "1779437100456";
    private const string ProviderA = "akash18ga02jzaq8cw52anyhzkwta5wygufgu6zsz6xc";
    private const string ProviderB = "akash1aes6unpl3pwn920y8kmmm9mqmcdcl36zvjxjur";
    private const string Sdl = "version: \"2.0\"\n";

    private AkashDeployFlow Flow(AkashDeployFlowOptions? options = null) =>
        new(AkashTestClient.Create(Fake, Clock), (options ?? new AkashDeployFlowOptions()) with { TimeProvider = Clock, Delay = Clock.Delay });

    private void ServeOneGroup(params FakeResponse[] bids) =>
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture("create-deployment.json", 201))
            .Serve("GET", "/v1/bids", bids)
            .Serve("POST", "/v1/leases", FakeResponse.Fixture("lease-created.json"))
            .Serve("DELETE", $"/v1/deployments/{Dseq}", FakeResponse.Fixture("close-deployment.json"));

    [Fact]
    public async Task Leases_the_cheapest_bid_and_prices_it_per_block_hour_and_month_at_consoles_block_time()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-empty.json"), FakeResponse.Fixture("bids-two-providers.json"));

        var result = await Flow().DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.Leased, result.Outcome);
        Assert.Equal(Dseq, result.Dseq);
        var lease = Assert.Single(result.Leases);
        Assert.Equal((ProviderB, 1, 1), (lease.LeaseId.Provider, lease.LeaseId.Gseq, lease.LeaseId.Oseq));
        Assert.Equal(("uact", 655m, 6.098m), (lease.Price.Denom, lease.Price.PerBlock, lease.Price.AverageBlockTimeSeconds));
        Assert.Equal(386_684.16m, Math.Round(lease.Price.PerHour, 2));
        Assert.Equal(282_468_137.75m, Math.Round(lease.Price.PerMonth, 2));
        Assert.Equal("ACT", lease.Price.TokenDenom);
        Assert.Contains(ProviderB, result.Message, StringComparison.Ordinal);
        Assert.False(result.DeploymentClosed);

        var requests = Fake.Requests;
        Assert.Equal("POST /v1/deployments", $"{requests[0].Method} {requests[0].Path}");
        Assert.All(requests.Skip(1).SkipLast(1), r => Assert.Equal(("GET", "/v1/bids", $"?dseq={Dseq}"), (r.Method, r.Path, r.Query)));
        var leaseRequest = requests[^1];
        Assert.Equal("POST /v1/leases", $"{leaseRequest.Method} {leaseRequest.Path}");
        var body = JsonNode.Parse(leaseRequest.Body)!;
        Assert.Equal(JsonNode.Parse(Fixtures.Read("create-deployment.json"))!["data"]!["manifest"]!.GetValue<string>(), body["manifest"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$"""[{"dseq":"{{Dseq}}","gseq":1,"oseq":1,"provider":"{{ProviderB}}"}]"""), body["leases"]));
        // It kept polling for the minimum wait (30 s at 2 s a poll) before choosing.
        Assert.Equal(TimeSpan.FromSeconds(30), Clock.Delays.Aggregate(TimeSpan.Zero, (a, b) => a + b));
    }

    [Fact]
    public async Task Takes_the_cheapest_open_bid_of_each_group_when_the_sdl_has_two()
    {
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture("create-deployment-two-groups.json", 201))
            .Serve("GET", "/v1/bids", FakeResponse.Fixture("bids-two-groups.json"))
            .Serve("POST", "/v1/leases", FakeResponse.Fixture("lease-created-two-groups.json"));

        var result = await Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.Zero }).DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.Leased, result.Outcome);
        Assert.Equal([(1, ProviderB, 790.25m), (2, ProviderA, 4400m)], result.Leases.Select(l => (l.LeaseId.Gseq, l.LeaseId.Provider, l.Price.PerBlock)));
        Assert.Equal(["nvidia/h100"], result.Leases[1].GpuModels);
        var total = Assert.Single(result.Totals());
        Assert.Equal(3_064_102.98m, Math.Round(total.PerHour, 2));
        var leases = JsonNode.Parse(Fake.Requests[^1].Body)!["leases"]!.AsArray();
        Assert.Equal([ProviderB, ProviderA], leases.Select(l => l!["provider"]!.GetValue<string>()));
        Assert.All(leases, l => Assert.Equal(Dseq2, l!["dseq"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_given_provider_is_taken_even_when_another_bids_less()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));

        var result = await Flow(new AkashDeployFlowOptions { Provider = ProviderA, MinimumBidWait = TimeSpan.Zero }).DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.Leased, result.Outcome);
        Assert.Contains($"\"provider\":\"{ProviderA}\"", Fake.Requests[^1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_bid_within_the_timeout_it_says_so_says_the_api_gives_no_reason_and_closes_the_deployment()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-empty.json"));
        var progress = new List<AkashDeployProgress>();

        var result = await Flow(new AkashDeployFlowOptions { BidTimeout = TimeSpan.FromSeconds(10), Progress = new SyncProgress(progress) })
            .DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.NoBids, result.Outcome);
        Assert.Equal([1], result.MissingGroups);
        Assert.Empty(result.Leases);
        Assert.True(result.DeploymentClosed);
        Assert.Contains("No bid arrived for group(s) 1", result.Message, StringComparison.Ordinal);
        Assert.Contains("within 10 s (6 polls)", result.Message, StringComparison.Ordinal);
        Assert.Contains("Akash's API does not say why", result.Message, StringComparison.Ordinal);
        Assert.Equal(6, Fake.Requests.Count(r => r.Path == "/v1/bids"));
        Assert.Equal(("DELETE", $"/v1/deployments/{Dseq}"), (Fake.Requests[^1].Method, Fake.Requests[^1].Path));
        Assert.DoesNotContain(Fake.Requests, r => r.Path == "/v1/leases");
        Assert.Equal(AkashDeployStage.DeploymentCreated, progress[0].Stage);
        Assert.Equal(AkashDeployStage.DeploymentClosed, progress[^1].Stage);
    }

    [Fact]
    public async Task A_given_provider_that_never_bids_is_named_in_the_no_bid_result()
    {
        const string silent = "akash1c4wazephqrn2k6e5jj07cg3vx97easzyprj3xp";
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));

        var result = await Flow(new AkashDeployFlowOptions { Provider = silent, BidTimeout = TimeSpan.FromSeconds(4) }).DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.NoBids, result.Outcome);
        Assert.Contains($"from provider {silent}", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keeps_collecting_for_the_minimum_wait_so_a_later_cheaper_bid_wins()
    {
        var first = JsonNode.Parse(Fixtures.Read("bids-two-providers.json"))!;
        first["data"]!.AsArray().RemoveAt(1);
        ServeOneGroup(new FakeResponse(200, first.ToJsonString()), new FakeResponse(200, first.ToJsonString()), FakeResponse.Fixture("bids-two-providers.json"));

        var result = await Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.FromSeconds(6) }).DeployAsync(Sdl, Ct);

        Assert.Equal(ProviderB, Assert.Single(result.Leases).LeaseId.Provider);
    }

    [Fact]
    public async Task A_refused_lease_is_a_result_with_the_api_error_and_the_deployment_is_closed()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));
        Fake.Serve("POST", "/v1/leases", FakeResponse.Fixture("error-400-bid-not-open.json", 400));

        var result = await Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.Zero }).DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.LeaseFailed, result.Outcome);
        Assert.Equal(400, (int)result.Error!.StatusCode);
        Assert.Contains("no longer open", result.Message, StringComparison.Ordinal);
        Assert.True(result.DeploymentClosed);
    }

    [Fact]
    public async Task Auto_top_up_is_turned_on_through_v2_settings_after_the_lease_when_asked()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));
        Fake.Serve("PATCH", $"/v2/deployment-settings/{Dseq}", FakeResponse.Fixture("deployment-setting.json"));

        var result = await Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.Zero, EnableAutoTopUp = true }).DeployAsync(Sdl, Ct);

        Assert.True(result.AutoTopUpEnabled);
        Assert.Equal("""{"data":{"autoTopUpEnabled":true}}""", Fake.Requests[^1].Body);
    }

    [Fact]
    public async Task A_failing_bid_query_closes_the_deployment_and_rethrows()
    {
        ServeOneGroup(FakeResponse.Fixture("error-404.json", 404));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => Flow().DeployAsync(Sdl, Ct));

        Assert.Equal(404, (int)e.StatusCode);
        Assert.Equal("DELETE", Fake.Requests[^1].Method);
    }

    [Fact]
    public async Task A_dropped_connection_while_leasing_closes_the_deployment_and_rethrows()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));
        Fake.Serve("POST", "/v1/leases", FakeResponse.DroppedConnection);

        await Assert.ThrowsAsync<HttpRequestException>(() => Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.Zero }).DeployAsync(Sdl, Ct));

        Assert.Equal(("DELETE", $"/v1/deployments/{Dseq}"), (Fake.Requests[^1].Method, Fake.Requests[^1].Path));
    }

    [Fact]
    public async Task Polling_is_bounded_by_count_even_when_theClock_never_moves()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-empty.json"));
        var flow = new AkashDeployFlow(
            AkashTestClient.Create(Fake, Clock),
            new AkashDeployFlowOptions { BidTimeout = TimeSpan.FromSeconds(10), TimeProvider = Clock, Delay = (_, _) => Task.CompletedTask });

        var result = await flow.DeployAsync(Sdl, Ct);

        Assert.Equal(AkashDeployOutcome.NoBids, result.Outcome);
        Assert.Equal(6, Fake.Requests.Count(r => r.Path == "/v1/bids"));
    }

    [Fact]
    public async Task The_block_time_is_a_parameter()
    {
        ServeOneGroup(FakeResponse.Fixture("bids-two-providers.json"));

        var result = await Flow(new AkashDeployFlowOptions { MinimumBidWait = TimeSpan.Zero, AverageBlockTimeSeconds = 6m }).DeployAsync(Sdl, Ct);

        Assert.Equal(393_000m, result.Leases[0].Price.PerHour);
        Assert.Equal(0.393m, result.Leases[0].Price.PerHourInTokens);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this one records in order, on the caller's thread.</summary>
    private sealed class SyncProgress(List<AkashDeployProgress> into) : IProgress<AkashDeployProgress>
    {
        public void Report(AkashDeployProgress value) => into.Add(value);
    }
}
