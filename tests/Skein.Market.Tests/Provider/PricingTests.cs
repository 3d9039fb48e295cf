using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Provider;
using Skein.Market.Tests.Market;

namespace Skein.Market.Tests.Provider;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PricingTests : IDisposable
{
    private static readonly MarketParams Rules = MarketParams.Default;
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-pricing-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Script(string body)
    {
        var path = Path.Combine(_dir, $"price-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task Scale_pricing_adds_cpu_memory_storage_and_each_gpu_at_its_assigned_models_price()
    {
        var pricing = new ScalePricing(100, 10, 1, new Dictionary<string, decimal> { ["a100"] = 2_000, ["rtx4090"] = 500 }, 9_999);
        // 1 core, 1 GiB memory, 1 GiB storage, one GPU, two instances: 2 x (100 + 10 + 1) + 500 + 2000.
        var group = MarketFixture.Group(count: 2, gpus: 1, gpuModels: ["*"]);
        var quote = await pricing.QuoteAsync(group, UInt128.MaxValue, ["rtx4090", "a100"], Rules, Ct);
        Assert.Equal(Rules.ToBaseUnits(new DecCoin("uact", "2722"), "x"), quote.PricePerBlock);
    }

    [Fact]
    public async Task An_open_model_is_priced_as_the_cheapest_model_the_provider_would_assign()
    {
        var pricing = new ScalePricing(0, 0, 0, new Dictionary<string, decimal> { ["a100"] = 2_000, ["rtx4090"] = 500 }, 9_999);
        var inventory = Inventory.Of(new ProviderCapacity(8_000, 64UL << 30, 1UL << 40, [new GpuCount("nvidia", "a100", 1), new GpuCount("nvidia", "rtx4090", 1)]), []);
        var (models, problem) = BidEngine.AssignGpus(MarketFixture.Group(gpus: 1, gpuModels: ["*"]), inventory, pricing);
        Assert.Null(problem);
        Assert.Equal(["rtx4090"], models!);
        var (none, why) = BidEngine.AssignGpus(MarketFixture.Group(gpus: 1, gpuModels: ["h100"]), inventory, pricing);
        Assert.Null(none);
        Assert.Equal(NoBidKind.GpuModel, why!.Value.Kind);
        Assert.Contains("it has a100, rtx4090", why.Value.Reason, StringComparison.Ordinal);
        var (_, busy) = BidEngine.AssignGpus(MarketFixture.Group(gpus: 2, gpuModels: ["a100"]), inventory, pricing);
        Assert.Equal(NoBidKind.Capacity, busy!.Value.Kind);
    }

    [Fact]
    public async Task A_price_script_reads_the_order_and_answers_a_price()
    {
        var seen = Path.Combine(_dir, "order.json");
        var pricing = new ScriptPricing(Script($"cat > {seen}\necho 750.5"), TimeSpan.FromSeconds(10));
        var quote = await pricing.QuoteAsync(MarketFixture.Group(count: 3), Rules.ToBaseUnits(new DecCoin("uact", "3000"), "x"), [], Rules, Ct);
        Assert.Equal(Rules.ToBaseUnits(new DecCoin("uact", "750.5"), "x"), quote.PricePerBlock);
        var order = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(seen, Ct)).RootElement;
        Assert.Equal(1_000UL, order.GetProperty("resources")[0].GetProperty("cpu").GetUInt64());
        Assert.Equal(3U, order.GetProperty("resources")[0].GetProperty("count").GetUInt32());
        Assert.Equal("3000", order.GetProperty("price").GetProperty("amount").GetString());
        Assert.Equal("uact", order.GetProperty("price").GetProperty("denom").GetString());
    }

    [Theory]
    [InlineData("echo 0", "price script answered 0: no bid")]
    [InlineData("echo cheap", "price script answered 'cheap', not a decimal price")]
    [InlineData("echo busy >&2; exit 3", "price script exited with 3: busy")]
    [InlineData("sleep 30", "price script did not answer within 0.5 s")]
    public async Task A_price_script_that_declines_fails_or_overruns_means_no_bid(string body, string reason)
    {
        var pricing = new ScriptPricing(Script(body), TimeSpan.FromMilliseconds(500));
        var quote = await pricing.QuoteAsync(MarketFixture.Group(), UInt128.MaxValue, [], Rules, Ct);
        Assert.Null(quote.PricePerBlock);
        Assert.Equal(reason, quote.Reason);
    }

    [Theory]
    [InlineData("ghcr.io/skein-ai/skein:0.1", true)]
    [InlineData("skein", true)]
    [InlineData("registry.example:5000/team/skein@sha256:abcd", true)]
    [InlineData("nginx:1.27", false)]
    [InlineData("ghcr.io/skein-ai/skeinx:1", false)]
    public void The_skein_image_resolves_to_this_machines_run_from_env(string image, bool runnable)
    {
        var resolver = new SkeinImageResolver(new Skein.Market.Runtime.ResolvedImage(["/bin/skein"], ["run-from-env"]));
        Assert.Equal(runnable, resolver.TryResolve(image, out var resolved));
        if (runnable)
        {
            Assert.Equal(["/bin/skein"], resolved!.Entrypoint);
        }
    }
}
