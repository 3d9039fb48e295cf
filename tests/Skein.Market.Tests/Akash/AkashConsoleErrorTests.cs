using System.Net;
using Skein.Market.Akash;

namespace Skein.Market.Tests.Akash;

public sealed class AkashConsoleErrorTests : FakeConsoleTests
{
    private const string Dseq = "1779436800123";

    [Theory]
    [InlineData("error-400-validation.json", 400, "BadRequestError", "Validation error", "validation_error", false)]
    [InlineData("error-400-invalid-sdl.json", 400, "BadRequestError", "Invalid SDL: Service \"web\" has no image", "bad_request", false)]
    [InlineData("error-401.json", 401, "UnauthorizedError", "Invalid API key", "unauthorized", false)]
    [InlineData("error-402.json", 402, "PaymentRequiredError", "Not enough balance to cover the deployment deposit. Add credits or turn on auto recharge to continue.", "unknown_error", false)]
    [InlineData("error-404.json", 404, "NotFoundError", "Deployment not found", "not_found", false)]
    [InlineData("error-429.json", 429, "TooManyRequestsError", "Too many requests. Please try again later.", "rate_limited", true)]
    [InlineData("error-500.json", 500, "InternalServerError", "Internal server error", "internal_server_error", true)]
    public async Task Each_error_shape_maps_to_status_error_message_code_and_transience(
        string fixture, int status, string error, string message, string code, bool transient)
    {
        var client = AkashTestClient.Create(Fake, Clock, maxRetries: 0);
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture(fixture, status));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => client.CreateDeploymentAsync("version: \"2.0\"", 1m, Ct));

        Assert.Equal((HttpStatusCode)status, e.StatusCode);
        Assert.Equal((error, message, code, transient), (e.Error, e.ApiMessage, e.Code, e.IsTransient));
        Assert.Equal(("POST", "v1/deployments"), (e.Method, e.Path));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_api_key_gets_401_which_is_not_retried_and_not_in_the_message()
    {
        const string wrongKey = "ac.sk.production.0000000000000000000000000000000000000000000000000000000000000000";
        var client = AkashTestClient.Create(Fake, Clock, apiKey: wrongKey);

        var e = await Assert.ThrowsAsync<AkashApiException>(() => client.GetDeploymentAsync(Dseq, Ct));

        Assert.Equal((HttpStatusCode.Unauthorized, false), (e.StatusCode, e.IsTransient));
        Assert.Single(Fake.Requests);
        Assert.Equal(wrongKey, Fake.Requests[0].ApiKey);
        Assert.DoesNotContain(wrongKey, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_retried_after_the_seconds_Retry_After_asks_for_then_succeeds()
    {
        Fake.Serve("POST", "/v1/deployments", FakeResponse.Fixture("create-deployment.json", 201))
            .FailNext(2, FakeResponse.Fixture("error-429.json", 429, retryAfter: "7"));

        var created = await Client.CreateDeploymentAsync("version: \"2.0\"", 1m, Ct);

        Assert.Equal(Dseq, created.Dseq);
        Assert.Equal(3, Fake.Requests.Count);
        Assert.All(Fake.Requests, r => Assert.Equal(Fake.Requests[0].Body, r.Body));
        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)], Clock.Delays);
    }

    [Fact]
    public async Task A_429_is_retried_at_most_MaxRetries_times_then_thrown_as_transient()
    {
        var client = AkashTestClient.Create(Fake, Clock, maxRetries: 3);
        Fake.FailNext(50, FakeResponse.Fixture("error-429.json", 429, retryAfter: "2"));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => client.GetBidsAsync(Dseq, Ct));

        Assert.Equal(4, Fake.Requests.Count);
        Assert.Equal(3, Clock.Delays.Count);
        Assert.True(e.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(2), e.RetryAfter);
    }

    [Fact]
    public async Task Retry_After_as_a_date_is_measured_on_the_injectedClock_and_capped()
    {
        var date = AkashTestClient.Start.AddSeconds(12).ToString("R");
        Fake.Serve("GET", "/v1/bids", FakeResponse.Fixture("bids-empty.json"))
            .FailNext(1, FakeResponse.Fixture("error-429.json", 429, retryAfter: date))
            .FailNext(1, FakeResponse.Fixture("error-429.json", 429, retryAfter: "3600"));

        Assert.Empty(await Client.GetBidsAsync(Dseq, Ct));

        Assert.Equal([TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(30)], Clock.Delays);
    }

    [Fact]
    public async Task A_500_on_a_get_is_retried_with_doubling_waits_when_there_is_no_Retry_After()
    {
        Fake.Serve("GET", $"/v1/deployments/{Dseq}", FakeResponse.Fixture("deployment-with-escrow.json"))
            .FailNext(2, FakeResponse.Fixture("error-500.json", 500));

        await Client.GetDeploymentAsync(Dseq, Ct);

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], Clock.Delays);
    }

    [Fact]
    public async Task A_500_on_a_post_is_not_retried_because_the_transaction_may_have_gone_through()
    {
        Fake.FailNext(1, FakeResponse.Fixture("error-500.json", 500));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => Client.CreateDeploymentAsync("version: \"2.0\"", 1m, Ct));

        Assert.True(e.IsTransient);
        Assert.Single(Fake.Requests);
        Assert.Empty(Clock.Delays);
    }

    [Fact]
    public async Task A_400_is_thrown_at_once()
    {
        Fake.FailNext(1, FakeResponse.Fixture("error-400-bid-not-open.json", 400));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => Client.GetBidsAsync(Dseq, Ct));

        Assert.False(e.IsTransient);
        Assert.Single(Fake.Requests);
    }

    [Fact]
    public async Task The_api_key_is_redacted_when_a_server_echoes_it_in_an_error()
    {
        var echo = $$"""{"error":"BadGatewayError {{FakeConsoleApi.ApiKey}}","message":"upstream refused x-api-key: {{FakeConsoleApi.ApiKey}}"}""";
        Fake.FailNext(1, new FakeResponse(400, echo));
        Fake.FailNext(1, new FakeResponse(502, $"<html>bad gateway for {FakeConsoleApi.ApiKey}</html>"));

        var json = await Assert.ThrowsAsync<AkashApiException>(() => Client.CreateDeploymentAsync("version: \"2.0\"", 1m, Ct));
        var html = await Assert.ThrowsAsync<AkashApiException>(() => Client.CreateDeploymentAsync("version: \"2.0\"", 1m, Ct));

        foreach (var e in new[] { json, html })
        {
            Assert.DoesNotContain(FakeConsoleApi.ApiKey, e.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(FakeConsoleApi.ApiKey, e.ApiMessage, StringComparison.Ordinal);
            Assert.DoesNotContain(FakeConsoleApi.ApiKey, e.Error ?? "", StringComparison.Ordinal);
            Assert.Contains("***", e.Message, StringComparison.Ordinal);
        }

        Assert.Null(html.Error);
        Assert.Equal(HttpStatusCode.BadGateway, html.StatusCode);
    }

    [Fact]
    public async Task A_success_without_data_is_an_invalid_response()
    {
        Fake.Serve("GET", $"/v1/deployments/{Dseq}", new FakeResponse(200, """{"result":{}}"""));

        var e = await Assert.ThrowsAsync<AkashApiException>(() => Client.GetDeploymentAsync(Dseq, Ct));

        Assert.Equal(("InvalidResponse", false), (e.Error, e.IsTransient));
    }
}
