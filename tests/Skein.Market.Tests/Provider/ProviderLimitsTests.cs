using System.Net;
using System.Text;
using Skein.Market.Serving;
using Skein.Market.Tests.Market;

namespace Skein.Market.Tests.Provider;

/// <summary>A provider's endpoint takes no oversized body and no flood from one client.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ProviderLimitsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_oversized_quote_is_refused_with_413_and_a_flooding_client_with_429()
    {
        await using var market = await MarketFixture.StartAsync(null, "prov");
        var host = await market.StartProviderAsync("prov", 100m, limits: ServerLimits.Default with { MaxJsonBodyBytes = 4_096, RequestsPerSecond = 1, Burst = 4, LimitLoopback = true });
        using var http = new HttpClient { BaseAddress = host.Uri };
        var big = await http.PostAsync("quote", new StringContent(new string(' ', 20_000) + "{}", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Contains("more than the 4096 this server takes", await big.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        HttpStatusCode? refused = null;
        for (var i = 0; i < 12 && refused is null; i++)
        {
            var status = (await http.GetAsync("status", Ct)).StatusCode;
            refused = status == HttpStatusCode.TooManyRequests ? status : null;
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, refused);
    }
}
