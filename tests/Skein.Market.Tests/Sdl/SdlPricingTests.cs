using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlPricingTests
{
    [Fact]
    public void Flock_template_ceiling_of_10000_uact_per_block_is_590_dollars_an_hour_as_Console_shows()
    {
        var report = SdlPricing.Compute(SdlTestData.Load("valid/flock-training-node.yaml"));
        var line = report.Groups.Single();
        Assert.Equal(10000m, line.PerBlock);
        Assert.Equal(5.9036m, line.UsdPerHour);
        Assert.Equal("uact", report.Total.Denom);
        Assert.Equal(line.PerHour, report.Total.PerHour);
    }

    [Fact]
    public void Per_block_ceiling_is_the_sum_of_price_times_count()
    {
        var report = SdlPricing.Compute(SdlTestData.Load("valid/multi-service.yaml"), blockSeconds: 6m);
        // web 3 x 100 + cache 1 x 100 + api 2 x 800
        Assert.Equal(2000m, report.Total.PerBlock);
        Assert.Equal(1_200_000m, report.Total.PerHour);
        Assert.Equal(decimal.Round(2000m * 30.437m * 86400m / 6m, 6), report.Total.PerMonth);
        Assert.Equal(1.2m, report.Total.UsdPerHour);
    }

    [Fact]
    public void Groups_are_priced_separately_and_uakt_gets_no_dollar_estimate()
    {
        var report = SdlPricing.Compute(SdlTestData.Load("valid/private-registry.yaml"));
        Assert.Equal(["eu", "us"], report.Groups.Select(g => g.Name));
        Assert.Equal([1200m, 2000m], report.Groups.Select(g => g.PerBlock));
        Assert.Equal(3200m, report.Total.PerBlock);
        Assert.Null(report.Total.UsdPerHour);
        Assert.Equal("uakt", report.Total.Denom);
    }

    [Fact]
    public void Block_time_must_be_positive()
    {
        var doc = SdlTestData.Load("valid/web-cpu-basic.yaml");
        Assert.Throws<ArgumentOutOfRangeException>(() => SdlPricing.Compute(doc, 0m));
    }
}
