using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market.Provider;

namespace Skein.Market.Tests.Market;

/// <summary>When no bid comes, `skein deploy` says why, per provider, for each reason a provider can have.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NoBidTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(Deploy.NoBidReport Report, MarketFixture Market)> NoBidAsync(MarketFixture m, GroupSpec group, UInt128? maxPrice = null)
    {
        var before = await m.Ledger.GetBalanceAsync(MarketFixture.Key("tenant").Address, Ct);
        var options = MarketFixture.Options() with { MaxPricePerBlock = maxPrice };
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(group), options, null, Ct);
        Assert.False(outcome.Ok);
        Assert.Empty(outcome.Leases);
        // The deployment is closed and the deposit refunded.
        Assert.Equal(before, await m.Ledger.GetBalanceAsync(MarketFixture.Key("tenant").Address, Ct));
        return (Assert.Single(outcome.NoBids), m);
    }

    [Fact]
    public async Task No_provider_with_the_GPU_model()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a", "b");
        await m.StartProviderAsync("a", 100, gpus: [new GpuCount("nvidia", "rtx4090", 2)]);
        await m.StartProviderAsync("b", 100);
        var (report, _) = await NoBidAsync(m, MarketFixture.Group(gpus: 1, gpuModels: ["a100", "h100"]));
        Assert.StartsWith("no provider has the GPU model a100/h100", report.Summary, StringComparison.Ordinal);
        Assert.All(report.Providers, v => Assert.Equal(NoBidKind.GpuModel, v.Kind));
        Assert.Contains(report.Providers, v => v.Reason.Contains("it has rtx4090", StringComparison.Ordinal));
        Assert.Contains(report.Providers, v => v.Reason.Contains("it has no GPUs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_ceiling_below_every_price_quotes_the_lowest()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a", "b");
        var a = await m.StartProviderAsync("a", 620);
        await m.StartProviderAsync("b", 900);
        var (report, _) = await NoBidAsync(m, MarketFixture.Group(price: "500"));
        Assert.Equal($"the ceiling of 500 uact/block is below every provider's price; the lowest is 620 uact/block from {a.Agent.Address} (raise the SDL's pricing or --max-price)", report.Summary);
        Assert.All(report.Providers, v => Assert.Equal(NoBidKind.Ceiling, v.Kind));
    }

    [Fact]
    public async Task A_max_price_below_every_price_is_reported_like_the_ceiling()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a");
        await m.StartProviderAsync("a", 620);
        var (report, _) = await NoBidAsync(m, MarketFixture.Group(price: "1000"), maxPrice: 300 * m.Rules.BaseUnitsPerDenomUnit);
        Assert.StartsWith("the ceiling of 300 uact/block is below every provider's price; the lowest is 620", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Not_enough_free_memory()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a");
        await m.StartProviderAsync("a", 100, memoryGiB: 16);
        var (report, _) = await NoBidAsync(m, MarketFixture.Group(memoryGiB: 64));
        Assert.StartsWith("no provider has enough free resources", report.Summary, StringComparison.Ordinal);
        Assert.Contains("not enough free memory: the group needs 64 GiB, 16 GiB free of 16 GiB", report.Providers[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_attribute()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a");
        await m.StartProviderAsync("a", 100, attributes: new Dictionary<string, string> { ["region"] = "eu" });
        var (report, _) = await NoBidAsync(m, MarketFixture.Group(attributes: new Dictionary<string, string> { ["region"] = "us" }));
        Assert.StartsWith("no provider meets the placement's attributes and auditors", report.Summary, StringComparison.Ordinal);
        Assert.Contains("attribute region=us is required and the provider has region=eu", report.Providers[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_auditor_signature_and_then_a_bid_once_audited()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "a", "auditor");
        var a = await m.StartProviderAsync("a", 100, attributes: new Dictionary<string, string> { ["tier"] = "gold" });
        var auditor = MarketFixture.Key("auditor").Address;
        var group = MarketFixture.Group(attributes: new Dictionary<string, string> { ["tier"] = "gold" }, anyOf: [auditor.ToString()]);
        var (report, _) = await NoBidAsync(m, group);
        Assert.Contains($"signedBy.anyOf: none of the auditors {auditor} has signed tier=gold", report.Providers[0].Reason, StringComparison.Ordinal);

        using var signer = new MarketSigner(m.Market, MarketFixture.Key("auditor"));
        await signer.SendAsync((f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = a.Agent.Address, Attributes = """{"tier":"gold"}""" }, Ct);
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(group), MarketFixture.Options(), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
    }

    [Fact]
    public async Task A_price_script_that_declines_says_so()
    {
        var script = Path.Combine(Path.GetTempPath(), $"skein-price-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\ncat > /dev/null\necho 'no GPUs for rent today' >&2\nexit 1\n", Ct);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await using var m = await MarketFixture.StartAsync(null, "tenant", "a");
            await m.StartProviderAsync("a", 0, pricing: new ScriptPricing(script, TimeSpan.FromSeconds(5)));
            var (report, _) = await NoBidAsync(m, MarketFixture.Group());
            Assert.Equal(NoBidKind.Pricing, report.Providers[0].Kind);
            Assert.Equal("price script exited with 1: no GPUs for rent today", report.Providers[0].Reason);
        }
        finally
        {
            File.Delete(script);
        }
    }
}
