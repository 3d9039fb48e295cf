using System.Text;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market.Deploy;

namespace Skein.Market.Tests.Market;

/// <summary>The market's HTTP API: refusals come back as the ledger's own codes, reads match the ledger, and auto top-up keeps a runway.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MarketApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_refused_transaction_over_http_is_the_ledgers_own_refusal()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "mallory");
        using var signer = new MarketSigner(m.Market, MarketFixture.Key("tenant"));
        var ex = await Assert.ThrowsAsync<LedgerException>(() => signer.SendAsync((f, n) => new CreateDeployment
        {
            From = f, Nonce = n, Dseq = 1, ManifestHash = Hash32.Parse("0x" + new string('1', 64)), Groups = GroupSpec.ToCanonicalJson([MarketFixture.Group(price: "10")]),
            Deposit = Tokens.Whole(5_000),
        }, Ct));
        Assert.Equal(LedgerError.InsufficientBalance, ex.Code);
        Assert.Contains("the deployment's escrow deposit needs 5000", ex.Message, StringComparison.Ordinal);

        // The refused transaction used no nonce: the next one goes through with the same signer.
        await signer.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = MarketFixture.Key("mallory").Address, Amount = 1 }, Ct);
        Assert.Equal(1UL, await m.Market.GetNonceAsync(MarketFixture.Key("tenant").Address, Ct));

        using var http = new HttpClient();
        using var body = new StringContent("{\"tx\": 1}", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(m.Market.BaseAddress, "v1/tx"), body, Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_transaction", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Null(await m.Market.GetDeploymentAsync(new DeploymentId(MarketFixture.Key("tenant").Address, 1), Ct));
    }

    [Fact]
    public async Task Reads_over_http_match_the_ledger_to_the_base_unit()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        await m.StartProviderAsync("p", cpuPrice: 333.333333m);
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group(price: "1000")), MarketFixture.Options(), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
        var overHttp = (await m.Market.GetDeploymentAsync(outcome.Deployment, Ct))!;
        var direct = (await m.Ledger.GetDeploymentAsync(outcome.Deployment, Ct))!;
        Assert.Equal(direct.ManifestHash, overHttp.ManifestHash);
        Assert.Equal(GroupSpec.ToCanonicalJson([direct.Groups[0].Spec]), GroupSpec.ToCanonicalJson([overHttp.Groups[0].Spec]));
        Assert.Equal(direct.Leases.Single().Price, overHttp.Leases.Single().Price);
        Assert.Equal(Rules(m).ToBaseUnits(new DecCoin("uact", "333.333333"), "x"), overHttp.Leases.Single().Price);
        Assert.Equal(direct.Escrow.Deposited, overHttp.Escrow.Deposited);
        Assert.Equal((await m.Ledger.ListProvidersAsync(Ct)).Single().Owner, (await m.Market.ListProvidersAsync(Ct)).Single().Owner);
    }

    [Fact]
    public async Task Auto_top_up_deposits_when_the_runway_falls_below_the_target_and_not_otherwise()
    {
        await using var m = await MarketFixture.StartAsync(null, "tenant", "p");
        await m.StartProviderAsync("p", cpuPrice: 500);
        // 200 ms blocks: 5,000 blocks (1,000 s, 0.28 h) of runway at 500 uact a block.
        var outcome = await m.Flow("tenant").RunAsync(MarketFixture.Plan(MarketFixture.Group()), MarketFixture.Options(2_500_000 * m.Rules.BaseUnitsPerDenomUnit), null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
        using var signer = new MarketSigner(m.Market, MarketFixture.Key("tenant"));
        Assert.Equal(UInt128.Zero, await new AutoTopUp(m.Market, signer, outcome.Deployment, 0.1).CheckAsync(Ct));
        var deposited = await new AutoTopUp(m.Market, signer, outcome.Deployment, 1).CheckAsync(Ct);
        Assert.True(deposited > 0);
        var runway = (await m.Market.GetDeploymentAsync(outcome.Deployment, Ct))!.Escrow.RunwayBlocks!.Value;
        Assert.InRange(runway * (double)m.Rules.BlockIntervalMs / 3_600_000, 1.9, 2.1);
    }

    private static MarketParams Rules(MarketFixture m) => m.Rules;
}
