using System.Diagnostics;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Market;

/// <summary>What settling escrow costs with many open leases, beside a bare loop over the same leases measured in the same run.</summary>
/// <param name="Leases">Open leases (one deployment each).</param>
/// <param name="Blocks">Market blocks settled at each pass.</param>
/// <param name="SettleMicrosecondsPerLease">Settling one lease's escrow (the plan, the payment, the exhaustion index).</param>
/// <param name="BaselineMicrosecondsPerLease">A bare loop adding price x blocks to each lease's earnings: the least any settlement costs.</param>
/// <param name="IdleBlockMicroseconds">The market's part of a block when no escrow is due (the exhaustion index makes it independent of the lease count).</param>
/// <param name="StateRootMilliseconds">Hashing the whole state once (every block does), with the leases in it.</param>
/// <param name="SupplyConserved">The supply invariant after the passes.</param>
public sealed record SettlementBenchmarkResult(int Leases, ulong Blocks, double SettleMicrosecondsPerLease, double BaselineMicrosecondsPerLease, double IdleBlockMicroseconds,
    double StateRootMilliseconds, bool SupplyConserved)
{
    public double Ratio => BaselineMicrosecondsPerLease > 0 ? SettleMicrosecondsPerLease / BaselineMicrosecondsPerLease : double.NaN;
}

/// <summary>Builds a market state with many open leases (through the market's own rules, without signatures) and times settlement.</summary>
public static class MarketBenchmark
{
    public static SettlementBenchmarkResult Run(int leases = 10_000, ulong blocks = 100, int passes = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leases, 1);
        var tenants = Enumerable.Range(0, Math.Max(1, leases / 100)).Select(i => AddressOf(1_000_000 + i)).ToArray();
        var providers = Enumerable.Range(0, 10).Select(i => AddressOf(2_000_000 + i)).ToArray();
        var genesis = new Genesis(1, LedgerParams.Default, [.. tenants.Concat(providers).Select(a => new GenesisAllocation(a, Tokens.Whole(1_000_000)))], 0);
        var state = LedgerState.FromGenesis(genesis);
        var rules = state.Params.MarketRules;
        state.MarketHeight = 1;
        foreach (var p in providers)
        {
            MarketRules.Apply(state, new RegisterProvider { From = p, Nonce = 0, HostUri = "http://127.0.0.1:1/", Attributes = "{}", Capacity = """{"cpu_millis":1000000000,"memory_bytes":1000000000000,"storage_bytes":1000000000000,"gpus":[]}""" });
        }
        var groups = GroupSpec.ToCanonicalJson([new GroupSpec("node", new PlacementRequirements(new Dictionary<string, string>(), [], []),
            [new GroupResource("node", new ResourceUnits(1_000, 1UL << 30, [], 0, []), 1, new DecCoin(rules.Denom, "1000"))])]);
        var hash = new Hash32(new byte[32] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 });
        for (var i = 0; i < leases; i++)
        {
            var tenant = tenants[i % tenants.Length];
            var provider = providers[i % providers.Length];
            var dseq = (ulong)i + 1;
            MarketRules.Apply(state, new CreateDeployment { From = tenant, Nonce = 0, Dseq = dseq, ManifestHash = hash, Groups = groups, Deposit = Tokens.Whole(100) });
            MarketRules.Apply(state, new CreateBid { From = provider, Nonce = 0, Owner = tenant, Dseq = dseq, Gseq = 1, Oseq = 1, Price = 500 * rules.BaseUnitsPerDenomUnit });
            MarketRules.Apply(state, new CreateLease { From = tenant, Nonce = 0, Owner = tenant, Dseq = dseq, Gseq = 1, Oseq = 1, Provider = provider });
        }
        var deployments = state.Market.Deployments.Values.ToArray();

        // Settle every lease, pass after pass, each pass `blocks` later.
        var settle = new Stopwatch();
        for (var pass = 0; pass < passes; pass++)
        {
            state.MarketHeight += blocks;
            settle.Start();
            foreach (var d in deployments)
            {
                MarketRules.Settle(state, d);
            }
            settle.Stop();
        }

        // The same leases, the least work: price x blocks into an earnings slot.
        var prices = deployments.Select(d => d.ActiveLeases().First().Lease.Price).ToArray();
        var earned = new UInt128[prices.Length];
        var baseline = Stopwatch.StartNew();
        for (var pass = 0; pass < passes; pass++)
        {
            for (var i = 0; i < prices.Length; i++)
            {
                earned[i] += prices[i] * blocks;
            }
        }
        baseline.Stop();
        GC.KeepAlive(earned);

        // A block when nothing is due: the exhaustion index answers at once.
        const int IdleBlocks = 1_000;
        var idle = Stopwatch.StartNew();
        for (var i = 0; i < IdleBlocks; i++)
        {
            MarketRules.BeginBlock(state);
        }
        idle.Stop();

        StateHasher.Root(state); // the first pass fills the groups' cached JSON
        var root = Stopwatch.StartNew();
        StateHasher.Root(state);
        root.Stop();

        return new SettlementBenchmarkResult(leases, blocks, settle.Elapsed.TotalMicroseconds / passes / leases, baseline.Elapsed.TotalMicroseconds / passes / leases,
            idle.Elapsed.TotalMicroseconds / IdleBlocks, root.Elapsed.TotalMilliseconds, state.SupplyIsConserved());
    }

    private static Address AddressOf(int i)
    {
        var bytes = new byte[Address.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(16), i);
        return Address.FromBytes(bytes);
    }
}
