using System.Text;
using Skein.Ledger;
using Skein.Market.Provider;
using Skein.Market.Tests.Market;

namespace Skein.Market.Tests.Provider;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TenantProofTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private static readonly Address Provider = MarketFixture.Key("provider").Address;
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""[{"name":"node"}]""");

    private static string Proof(string who = "tenant", Address? provider = null, string path = "/deployment/x/1/manifest", byte[]? body = null, DateTimeOffset? at = null) =>
        TenantProof.Create(MarketFixture.Key(who), 7, provider ?? Provider, "PUT", path, body ?? Body, at ?? Now);

    private static (bool Ok, Address Tenant, string Reason) Verify(string header, string path = "/deployment/x/1/manifest", byte[]? body = null, DateTimeOffset? at = null)
    {
        var ok = TenantProof.TryVerify(header, 7, Provider, "PUT", path, body ?? Body, at ?? Now, out var tenant, out var reason);
        return (ok, tenant, reason);
    }

    [Fact]
    public void A_proof_names_the_tenant_that_signed_this_request()
    {
        var (ok, tenant, _) = Verify(Proof());
        Assert.True(ok);
        Assert.Equal(MarketFixture.Key("tenant").Address, tenant);
    }

    [Fact]
    public void A_proof_for_another_body_path_provider_or_time_is_refused()
    {
        Assert.False(Verify(Proof(), body: Encoding.UTF8.GetBytes("[]")).Ok);
        Assert.False(Verify(Proof(), path: "/deployment/x/2/manifest").Ok);
        Assert.False(Verify(Proof(provider: MarketFixture.Key("other").Address)).Ok);
        var (ok, _, reason) = Verify(Proof(), at: Now + TimeSpan.FromMinutes(6));
        Assert.False(ok);
        Assert.Contains("expired", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_proof_claiming_someone_else_is_refused()
    {
        var forged = Proof("mallory").Split(':');
        var claim = $"{MarketFixture.Key("tenant").Address}:{forged[1]}:{forged[2]}";
        var (ok, _, reason) = Verify(claim);
        Assert.False(ok);
        Assert.Contains("does not prove", reason, StringComparison.Ordinal);
        Assert.False(Verify("nonsense").Ok);
        Assert.False(Verify("").Ok);
    }
}
