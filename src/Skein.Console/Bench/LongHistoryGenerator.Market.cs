using System.Globalization;
using System.Text.Json;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Console.Bench;

/// <summary>The market side of the history: providers, deployments with competing bids, leases, and one deployment closed by its tenant.</summary>
public sealed partial class LongHistoryGenerator
{
    private const int Providers = 3;
    private const int Deployments = 4;

    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private async Task MarketAsync(CancellationToken ct)
    {
        var rules = Parameters.MarketRules;
        var capacity = JsonSerializer.Serialize(new ProviderCapacity(16_000, 64UL << 30, 1UL << 40, []), Snake);
        await BlockAsync(6_000, Enumerable.Range(0, Providers).Select(i => ($"provider-{i}", (Func<Address, ulong, Transaction>)((f, n) => new RegisterProvider
        {
            From = f,
            Nonce = n,
            HostUri = string.Create(CultureInfo.InvariantCulture, $"https://provider-{i}.example/"),
            Attributes = JsonSerializer.Serialize(new Dictionary<string, string> { ["region"] = i % 2 == 0 ? "eu" : "us", ["tier"] = "community" }),
            Capacity = capacity,
        }))).ToArray(), ct);

        // A price of a few uact per block: the deposits last for years of ledger time, so the leases are still active
        // when the benchmark serves the chain, however long after the generated history that is.
        var group = new GroupSpec("train", new PlacementRequirements(new Dictionary<string, string>(), [], []),
            [new GroupResource("trainer", new ResourceUnits(2_000, 4UL << 30, [new StorageUnits("default", 10UL << 30, "default", false)], 0, []), 1, new DecCoin(rules.Denom, "10"))]);
        var groups = GroupSpec.ToCanonicalJson([group]);
        var deposit = Tokens.Whole(500);
        await BlockAsync(6_000, Enumerable.Range(1, Deployments).Select(d => ($"tenant-{d % 2}", (Func<Address, ulong, Transaction>)((f, n) => new CreateDeployment
        {
            From = f,
            Nonce = n,
            Dseq = (ulong)d,
            ManifestHash = Hash("manifest", d),
            Groups = groups,
            Deposit = deposit,
        }))).ToArray(), ct);

        var bids = new List<(string, Func<Address, ulong, Transaction>)>();
        for (var d = 1; d <= Deployments; d++)
        {
            var owner = _keys[$"tenant-{d % 2}"].Address;
            var dseq = (ulong)d;
            for (var p = 0; p < Providers; p++)
            {
                var price = (UInt128)(ulong)(1 + ((p + d) % Providers)) * rules.BaseUnitsPerDenomUnit;
                bids.Add(($"provider-{p}", (f, n) => new CreateBid { From = f, Nonce = n, Owner = owner, Dseq = dseq, Gseq = 1, Oseq = 1, Price = price }));
            }
        }
        await BlockAsync(6_000, bids, ct);

        // Every deployment but the last leases its cheapest bid; the last keeps its bids open.
        var leases = new List<(string, Func<Address, ulong, Transaction>)>();
        for (var d = 1; d < Deployments; d++)
        {
            var cheapest = _keys[$"provider-{Enumerable.Range(0, Providers).First(p => (p + d) % Providers == 0)}"].Address;
            var dseq = (ulong)d;
            leases.Add(($"tenant-{d % 2}", (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = dseq, Gseq = 1, Oseq = 1, Provider = cheapest }));
        }
        await BlockAsync(6_000, leases, ct);
        await BlockAsync(60_000, [($"tenant-{(Deployments - 1) % 2}", (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = Deployments - 1 })], ct);
    }

    /// <summary>A provider takes what its lease earned so far (midway through the history).</summary>
    private (string, Func<Address, ulong, Transaction>) Withdrawal()
    {
        var provider = Enumerable.Range(0, Providers).First(p => (p + 1) % Providers == 0);
        var owner = _keys["tenant-1"].Address;
        return ($"provider-{provider}", (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = owner, Dseq = 1, Gseq = 1, Oseq = 1 });
    }
}
