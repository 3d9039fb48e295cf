using System.Text.Json.Nodes;
using Skein.Market.Akash;

namespace Skein.Market.Tests.Akash;

public sealed class AkashConsoleClientTests : FakeConsoleTests
{
    private const string Dseq = "1779436800123";
    private const string ProviderA = "akash18ga02jzaq8cw52anyhzkwta5wygufgu6zsz6xc";
    private const string ProviderB = "akash1aes6unpl3pwn920y8kmmm9mqmcdcl36zvjxjur";
    private const string Sdl = "version: \"2.0\"\nservices:\n  web:\n    image: ghcr.io/akash-network/hello-akash-world:2.1.0\n";

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");

    [Fact]
    public async Task Create_deployment_posts_sdl_and_deposit_in_dollars_wrapped_in_data_with_the_api_key()
    {
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture("create-deployment.json", 201));

        var created = await Client.CreateDeploymentAsync(Sdl, 5.5m, Ct);

        var request = Assert.Single(Fake.Requests);
        Assert.Equal(("POST", "/v1/deployments", ""), (request.Method, request.Path, request.Query));
        Assert.Equal(FakeConsoleApi.ApiKey, request.ApiKey);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        AssertJson($$$"""{"data":{"sdl":{{{JsonValue.Create(Sdl).ToJsonString()}}},"deposit":5.5}}""", request.Body);
        Assert.Equal(Dseq, created.Dseq);
        Assert.Single(JsonNode.Parse(created.Manifest)!.AsArray());
        Assert.Equal(0, created.SignTx!.Code);
        Assert.Equal(64, created.SignTx.TransactionHash.Length);
    }

    [Fact]
    public async Task Create_deployment_without_a_deposit_leaves_the_field_out_for_managed_deposits()
    {
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture("create-deployment.json", 201));

        await Client.CreateDeploymentAsync(Sdl, null, Ct);

        AssertJson($$$"""{"data":{"sdl":{{{JsonValue.Create(Sdl).ToJsonString()}}}}}""", Assert.Single(Fake.Requests).Body);
    }

    [Fact]
    public async Task Bids_are_listed_by_dseq_in_the_query_and_parsed_with_ids_prices_resources_and_escrow()
    {
        Fake.Serve("GET", "/v1/bids", FakeResponse.Fixture("bids-two-providers.json"));

        var bids = await Client.GetBidsAsync(Dseq, Ct);

        var request = Assert.Single(Fake.Requests);
        Assert.Equal(("GET", "/v1/bids", $"?dseq={Dseq}", ""), (request.Method, request.Path, request.Query, request.Body));
        Assert.Equal([ProviderA, ProviderB], bids.Select(b => b.Bid.Id.Provider));
        var bid = bids[1].Bid;
        Assert.Equal(("akash13265twfqejnma6cc93rw5dxk4cldyz2zyy8cdm", Dseq, 1, 1, 0), (bid.Id.Owner, bid.Id.Dseq, bid.Id.Gseq, bid.Id.Oseq, bid.Id.Bseq));
        Assert.Equal("open", bid.State);
        Assert.Equal(("uact", 655m), (bid.Price.Denom, bid.Price.ParseAmount()));
        Assert.Equal("25871238", bid.CreatedAt);
        var resources = Assert.Single(bid.ResourcesOffer).Resources;
        Assert.Equal(("500", "536870912", "0"), (resources.Cpu!.Units!.Val, resources.Memory!.Quantity!.Val, resources.Gpu!.Units!.Val));
        Assert.Equal(("default", "SHARED_HTTP"), (resources.Storage[0].Name, resources.Endpoints[0].Kind));
        var escrow = bids[1].EscrowAccount!;
        Assert.Equal(("bid", ProviderB, "open"), (escrow.Id.Scope, escrow.State.Owner, escrow.State.State));
        Assert.Equal(500_000m, escrow.FundsIn("uact"));
        Assert.Equal("balance", escrow.State.Deposits[0].Source);
    }

    [Fact]
    public async Task Bids_name_the_gpu_model_from_the_bid_attributes()
    {
        Fake.Serve("GET", "/v1/bids", FakeResponse.Fixture("bids-two-groups.json"));

        var bids = await Client.GetBidsAsync("1779437100456", Ct);

        Assert.Equal(["nvidia/h100"], bids.Single(b => b.Bid.Id.Gseq == 2 && b.Bid.State == "open" && b.Bid.Id.Provider == ProviderA).Bid.ResourcesOffer[0].Resources.GpuModels());
        Assert.Empty(bids.First(b => b.Bid.Id.Gseq == 1).Bid.ResourcesOffer[0].Resources.GpuModels());
    }

    [Fact]
    public async Task Create_lease_posts_the_manifest_and_chosen_bids_unwrapped_and_parses_the_deployment_with_lease_status()
    {
        Fake.Serve("POST", "/v1/leases", FakeResponse.Fixture("lease-created.json"));
        var bid = new AkashBidId { Owner = "akash13265twfqejnma6cc93rw5dxk4cldyz2zyy8cdm", Dseq = Dseq, Gseq = 1, Oseq = 1, Provider = ProviderB, Bseq = 0 };

        var details = await Client.CreateLeaseAsync("[{\"name\":\"dcloud\"}]", [bid], Ct);

        var request = Assert.Single(Fake.Requests);
        Assert.Equal(("POST", "/v1/leases"), (request.Method, request.Path));
        AssertJson($$"""{"manifest":"[{\"name\":\"dcloud\"}]","leases":[{"dseq":"{{Dseq}}","gseq":1,"oseq":1,"provider":"{{ProviderB}}"}]}""", request.Body);
        Assert.Equal(("active", Dseq), (details.Deployment.State, details.Deployment.Id.Dseq));
        var lease = Assert.Single(details.Leases);
        Assert.Equal((ProviderB, "active", "655.000000000000000000", "0"), (lease.Id.Provider, lease.State, lease.Price.Amount, lease.ClosedOn));
        var port = Assert.Single(lease.Status!.ForwardedPorts["web"]);
        Assert.Equal((80, 31842, "provider.europlots.com"), (port.Port, port.ExternalPort, port.Host));
        Assert.Equal((1, 1), (lease.Status.Services["web"].ReadyReplicas, lease.Status.Services["web"].AvailableReplicas));
    }

    [Fact]
    public async Task Deposit_posts_dseq_and_dollars_wrapped_in_data_and_returns_the_escrow()
    {
        Fake.Serve("POST", "/v1/deposit-deployment", FakeResponse.Fixture("deposit-deployment.json"));

        var details = await Client.DepositAsync(Dseq, 5m, Ct);

        var request = Assert.Single(Fake.Requests);
        Assert.Equal(("POST", "/v1/deposit-deployment"), (request.Method, request.Path));
        AssertJson($$$"""{"data":{"dseq":"{{{Dseq}}}","deposit":5}}""", request.Body);
        Assert.Equal(5_107_000m, details.EscrowAccount!.FundsIn("uact"));
        Assert.Equal(2, details.EscrowAccount.State.Deposits.Count);
        Assert.Null(details.Leases[0].Status);
    }

    [Fact]
    public async Task Get_deployment_reads_leases_escrow_balance_and_what_was_paid_out()
    {
        Fake.Serve("GET", $"/v1/deployments/{Dseq}", FakeResponse.Fixture("deployment-with-escrow.json"));

        var details = await Client.GetDeploymentAsync(Dseq, Ct);

        Assert.Equal(("GET", $"/v1/deployments/{Dseq}", ""), (Fake.Requests[0].Method, Fake.Requests[0].Path, Fake.Requests[0].Body));
        var escrow = details.EscrowAccount!;
        Assert.Equal(("deployment", "akash13265twfqejnma6cc93rw5dxk4cldyz2zyy8cdm/" + Dseq), (escrow.Id.Scope, escrow.Id.Xid));
        Assert.Equal(107_000m, escrow.FundsIn("uact"));
        Assert.Equal(393_000m, escrow.State.Transferred.Single().ParseAmount());
        Assert.Equal("25871862", escrow.State.SettledAt);
        Assert.Equal(0m, escrow.FundsIn("uakt"));
        Assert.Equal("q0W1J3bLrU0T1iNSMZ4nJ7sP9xv7Kk8kQ0eXg4o2vYk=", details.Deployment.Hash);
    }

    [Fact]
    public async Task Close_sends_delete_to_the_deployment()
    {
        Fake.Serve("DELETE", $"/v1/deployments/{Dseq}", FakeResponse.Fixture("close-deployment.json"));

        Assert.True(await Client.CloseDeploymentAsync(Dseq, Ct));

        Assert.Equal(("DELETE", $"/v1/deployments/{Dseq}", ""), (Fake.Requests[0].Method, Fake.Requests[0].Path, Fake.Requests[0].Body));
    }

    [Fact]
    public async Task Auto_top_up_settings_use_the_v2_routes_with_data_wrapped_bodies()
    {
        var setting = FakeResponse.Fixture("deployment-setting.json");
        Fake.Serve("GET", $"/v2/deployment-settings/{Dseq}", setting)
            .Serve("PATCH", $"/v2/deployment-settings/{Dseq}", setting)
            .Serve("POST", "/v2/deployment-settings", FakeResponse.Fixture("deployment-setting.json", 201));

        var read = await Client.GetDeploymentSettingAsync(Dseq, Ct);
        await Client.UpdateDeploymentSettingAsync(Dseq, autoTopUpEnabled: true, Ct);
        await Client.CreateDeploymentSettingAsync(Dseq, autoTopUpEnabled: false, Ct);

        var requests = Fake.Requests;
        Assert.Equal(("GET", $"/v2/deployment-settings/{Dseq}", ""), (requests[0].Method, requests[0].Path, requests[0].Body));
        Assert.Equal(("PATCH", $"/v2/deployment-settings/{Dseq}"), (requests[1].Method, requests[1].Path));
        AssertJson("""{"data":{"autoTopUpEnabled":true}}""", requests[1].Body);
        Assert.Equal(("POST", "/v2/deployment-settings"), (requests[2].Method, requests[2].Path));
        AssertJson($$$"""{"data":{"dseq":"{{{Dseq}}}","autoTopUpEnabled":false}}""", requests[2].Body);
        Assert.True(read.AutoTopUpEnabled);
        Assert.Equal((9_432_000m, 86_400_000L, "0b6f3c52-8c0e-4a57-9d0e-6c1f8b2f4e11"), (read.EstimatedTopUpAmount, read.TopUpFrequencyMs, read.Id));
        Assert.Equal(new DateTimeOffset(2026, 5, 22, 8, 4, 12, TimeSpan.Zero), read.UpdatedAt);
    }

    [Fact]
    public async Task Fields_the_schemas_do_not_have_are_ignored()
    {
        // http-sdk's Bid carries resources.id and the chain's deployment info has groups; newer APIs may add more.
        var bids = JsonNode.Parse(Fixtures.Read("bids-two-providers.json"))!;
        bids["data"]![0]!["bid"]!["resources_offer"]![0]!["resources"]!["id"] = 1;
        bids["data"]![0]!["bid"]!["price"]!["extra"] = "x";
        bids["data"]![0]!["future_field"] = new JsonObject { ["nested"] = new JsonArray(1, 2) };
        var deployment = JsonNode.Parse(Fixtures.Read("deployment-with-escrow.json"))!;
        deployment["data"]!["groups"] = new JsonArray();
        deployment["meta"] = "ignored";
        Fake.Serve("GET", "/v1/bids", new FakeResponse(200, bids.ToJsonString()))
            .Serve("GET", $"/v1/deployments/{Dseq}", new FakeResponse(200, deployment.ToJsonString()));

        Assert.Equal(2, (await Client.GetBidsAsync(Dseq, Ct)).Count);
        Assert.Single((await Client.GetDeploymentAsync(Dseq, Ct)).Leases);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("12a")]
    [InlineData("../admin")]
    [InlineData("1 OR 1")]
    public async Task A_dseq_that_is_not_a_positive_integer_is_refused_before_any_request(string dseq)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetDeploymentAsync(dseq, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetBidsAsync(dseq, Ct));
        Assert.Empty(Fake.Requests);
    }

    [Fact]
    public void The_api_key_never_appears_in_ToString()
    {
        var key = new AkashApiKey(FakeConsoleApi.ApiKey);
        var options = new AkashConsoleOptions(key, Fake.BaseUrl);

        Assert.DoesNotContain(FakeConsoleApi.ApiKey, key.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeConsoleApi.ApiKey, options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeConsoleApi.ApiKey, Client.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new AkashApiKey("ac.sk.production.abc\r\nx-evil: 1"));
    }

    [Fact]
    public void The_default_base_url_is_the_public_console_api()
    {
        var options = new AkashConsoleOptions(new AkashApiKey(FakeConsoleApi.ApiKey));

        Assert.Equal("https://console-api.akash.network/", options.BaseUrl.AbsoluteUri);
        Assert.Equal("https://proxy.example/akash/", new AkashConsoleOptions(new AkashApiKey("k"), new Uri("https://proxy.example/akash")).BaseUrl.AbsoluteUri);
    }
}
