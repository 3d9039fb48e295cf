using System.Globalization;
using System.Text;
using System.Text.Json;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Tests.Market;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm.Tests;

/// <summary>
/// The same random sequences of signed market transactions on both backends, each at the same ledger time: every
/// transaction is accepted by both or refused by both with the same code and words, and afterwards balances,
/// providers and every deployment (escrow, orders, bids, leases and what they were paid) agree.
/// </summary>
public sealed class MarketDifferentialTests(AnvilChain chain) : IClassFixture<AnvilChain>, IDisposable
{
    private static readonly string[] Names = ["ten", "tia", "pro", "pam", "aud"];
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-evm-market-diff-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_market_sequences_give_the_same_outcomes_escrow_and_payouts_on_the_embedded_ledger_and_the_contract(int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(seed);
        // Both backends see every transaction at the same ledger time.
        var start = await StartAsync(ct);
        var genesis = AnvilChain.Genesis(Names, whole: 50) with { Timestamp = start };
        var rules = genesis.Params.MarketRules;
        var clock = new Clock(start);
        await using var embedded = await EmbeddedLedger.OpenAsync(Path.Combine(_dir, $"market-{seed}.db"), genesis, clock, ct);
        await using var evm = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, ct);
        var uact = rules.BaseUnitsPerDenomUnit;
        var accepted = new Dictionary<string, int>();
        var refused = new Dictionary<LedgerError, int>();
        var time = start;
        // A prelude that gives the random steps providers to bid with.
        foreach (var (name, region) in new[] { ("pro", "eu"), ("pam", "us") })
        {
            var key = AnvilChain.Key(name);
            var register = key.SignTransaction(new RegisterProvider
            {
                From = key.Address, Nonce = 0, HostUri = $"http://127.0.0.1:9000/{name}", Attributes = $$"""{"region":"{{region}}"}""", Capacity = MarketChain.CapacityJson,
            }, AnvilChain.ChainId);
            await embedded.SubmitAsync(register, ct);
            await evm.SubmitAsync(register, ct);
        }
        for (var step = 0; step < 120; step++)
        {
            // Time moves in whole seconds, at most a few market blocks a step.
            time += 1_000 * random.Next(6) switch { 0 => 30, 1 => 12, _ => random.Next(1, 5) };
            clock.Now = time;
            await chain.Node.SetNextBlockTimestampAsync(time / 1000, ct);
            var who = Names[random.Next(Names.Length)];
            var from = AnvilChain.Key(who).Address;
            var owner = AnvilChain.Key(random.Next(3) == 0 ? Names[random.Next(Names.Length)] : (random.Next(2) == 0 ? "ten" : "tia")).Address;
            var provider = AnvilChain.Key(random.Next(4) == 0 ? Names[random.Next(Names.Length)] : (random.Next(2) == 0 ? "pro" : "pam")).Address;
            var nonce = await embedded.GetNonceAsync(from, ct);
            if (random.Next(12) == 0)
            {
                nonce++;
            }
            var dseq = (ulong)random.Next(0, 4);
            var gseq = (uint)random.Next(0, 3);
            var oseq = (uint)random.Next(1, 3);
            // Most steps act on what exists (so that bids, leases, withdrawals and dry escrows happen); the rest are blind.
            var open = await embedded.ListOpenOrdersAsync(ct);
            var leases = await embedded.ListLeasesAsync(new LeaseQuery(ActiveOnly: true), ct);
            var kind = random.Next(12);
            if (random.Next(10) < 8)
            {
                if (kind is 6 or 7 or 8 && open.Count > 0)
                {
                    var o = open[random.Next(open.Count)];
                    (owner, dseq, gseq, oseq) = (o.Id.Owner, o.Id.Dseq, o.Id.Gseq, o.Id.Oseq);
                    if (kind == 8 && o.Bids.Count > 0)
                    {
                        who = Name(o.Bids[random.Next(o.Bids.Count)].Id.Provider);
                    }
                    else
                    {
                        who = random.Next(2) == 0 ? "pro" : "pam";
                    }
                }
                else if (kind == 9 && open.SelectMany(o => o.Bids).Where(b => b.Status == BidStatus.Open).ToArray() is { Length: > 0 } bids)
                {
                    var bid = bids[random.Next(bids.Length)];
                    (owner, dseq, gseq, oseq, provider) = (bid.Id.Owner, bid.Id.Dseq, bid.Id.Gseq, bid.Id.Oseq, bid.Id.Provider);
                    who = Name(owner);
                }
                else if (kind is 10 or 11 or 4 or 5 && leases.Count > 0)
                {
                    var l = leases[random.Next(leases.Count)];
                    (owner, dseq, gseq, oseq, provider) = (l.Id.Owner, l.Id.Dseq, l.Id.Gseq, l.Id.Oseq, l.Id.Provider);
                    who = kind == 10 || (kind == 11 && random.Next(2) == 0) ? Name(provider) : Name(owner);
                }
                from = AnvilChain.Key(who).Address;
                nonce = await embedded.GetNonceAsync(from, ct);
            }
            Transaction tx = kind switch
            {
                0 => new RegisterProvider
                {
                    From = from, Nonce = nonce, HostUri = random.Next(8) == 0 ? "ftp://x" : $"http://127.0.0.1:{9000 + random.Next(9)}/",
                    Attributes = random.Next(8) == 0 ? "{not json" : JsonSerializer.Serialize(new Dictionary<string, string> { ["region"] = random.Next(2) == 0 ? "eu" : "us" }),
                    Capacity = MarketChain.CapacityJson,
                },
                1 => new SignProviderAttributes
                {
                    From = from, Nonce = nonce, Provider = provider, Attributes = random.Next(4) == 0 ? "{}" : """{"region":"eu"}""",
                },
                2 or 3 => new CreateDeployment
                {
                    From = from, Nonce = nonce, Dseq = dseq, ManifestHash = random.Next(10) == 0 ? Hash32.Zero : MarketChain.Sample(dseq),
                    Groups = random.Next(10) == 0 ? "[]" : GroupSpec.ToCanonicalJson(Groups(random)),
                    Deposit = random.Next(6) == 0 ? rules.MinDeposit / 2 : random.Next(8) == 0 ? Tokens.Whole(500) : rules.MinDeposit + (UInt128)(random.Next(0, 30) * 10_000) * uact,
                },
                4 => new DepositDeployment { From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Amount = random.Next(6) == 0 ? 0 : (UInt128)(random.Next(1, 30) * 10_000) * uact },
                5 => new CloseDeployment { From = from, Nonce = nonce, Owner = owner, Dseq = dseq },
                6 or 7 => new CreateBid
                {
                    From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Gseq = gseq, Oseq = oseq,
                    Price = random.Next(8) == 0 ? 0 : (UInt128)random.Next(1, 15) * 1_000 * uact,
                },
                8 => new CloseBid { From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Gseq = gseq, Oseq = oseq },
                9 => new CreateLease { From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Gseq = gseq, Oseq = oseq, Provider = provider },
                10 => new WithdrawLease { From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Gseq = gseq, Oseq = oseq },
                _ => new CloseLease { From = from, Nonce = nonce, Owner = owner, Dseq = dseq, Gseq = gseq, Oseq = oseq, Provider = provider },
            };
            var signed = AnvilChain.Key(who).SignTransaction(tx, AnvilChain.ChainId);
            var a = await AnvilChain.OutcomeAsync(embedded, signed, ct);
            var b = await AnvilChain.OutcomeAsync(evm, signed, ct);
            Assert.True(a == b, $"step {step} at {time}, {tx}: embedded {a?.ToString() ?? "accepted"}, evm {b?.ToString() ?? "accepted"}");
            if (a is null)
            {
                accepted[tx.TypeName] = accepted.GetValueOrDefault(tx.TypeName) + 1;
            }
            else
            {
                refused[a.Value.Code] = refused.GetValueOrDefault(a.Value.Code) + 1;
            }
        }

        // A last block on both at the start of the next market block: the embedded ledger's start of block closes
        // escrows that ran dry and times out bids; on the chain, the keeper does it.
        time = start + (long)((ulong)(time - start) / rules.BlockIntervalMs + 1) * (long)rules.BlockIntervalMs;
        clock.Now = time;
        await chain.Node.SetNextBlockTimestampAsync((time + 999) / 1000, ct);
        await embedded.ProduceEmptyBlockAsync(ct);
        if (await evm.SettleDueAsync(DateTimeOffset.FromUnixTimeMilliseconds(time), ct) == 0)
        {
            await chain.Node.MineAsync(1, ct);
        }
        foreach (var name in Names)
        {
            var address = AnvilChain.Key(name).Address;
            Assert.Equal(await embedded.GetBalanceAsync(address, ct), await evm.GetBalanceAsync(address, ct));
            Assert.Equal(await embedded.GetNonceAsync(address, ct), await evm.GetNonceAsync(address, ct));
        }
        Assert.Equal((await embedded.ListProvidersAsync(ct)).Select(Describe), (await evm.ListProvidersAsync(ct)).Select(Describe));
        // Both read models at the same market height: the embedded ledger's head block and the chain's head block are at the last step's time.
        Assert.Equal((await embedded.GetMarketStatusAsync(ct)).MarketHeight, (await evm.GetMarketStatusAsync(ct)).MarketHeight);
        var deploymentsA = await embedded.ListDeploymentsAsync(new DeploymentQuery(), ct);
        var deploymentsB = await evm.ListDeploymentsAsync(new DeploymentQuery(), ct);
        Assert.Equal(deploymentsA.Select(Describe), deploymentsB.Select(Describe));
        Assert.Equal((await embedded.ListOpenOrdersAsync(ct)).Select(o => o.Id), (await evm.ListOpenOrdersAsync(ct)).Select(o => o.Id));
        // The sequence must reach leases that are paid to mean anything (escrows that run dry have their own test below).
        Assert.True(accepted.GetValueOrDefault("CreateLease") >= 1, $"no lease in the sequence: {string.Join(", ", accepted)}; refused {string.Join(", ", refused)}");
        Assert.Contains(deploymentsA, d => d.Leases.Any(l => l.Paid > 0));
        Assert.True(refused.Count >= 6, $"refusals of too few kinds: {string.Join(", ", refused.Keys)}");
    }

    [Fact]
    public async Task An_escrow_that_runs_dry_pays_the_same_split_and_closes_the_same_way_on_both_backends()
    {
        var ct = TestContext.Current.CancellationToken;
        var start = await StartAsync(ct);
        var genesis = AnvilChain.Genesis(Names, whole: 50) with { Timestamp = start };
        var rules = genesis.Params.MarketRules;
        var clock = new Clock(start);
        await using var embedded = await EmbeddedLedger.OpenAsync(Path.Combine(_dir, "dry.db"), genesis, clock, ct);
        await using var evm = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, genesis, ct);
        var uact = rules.BaseUnitsPerDenomUnit;
        var time = start;
        async Task<(LedgerError Code, string Message)?> Step(long at, string who, Func<Address, ulong, Transaction> build)
        {
            time = at;
            clock.Now = at;
            await chain.Node.SetNextBlockTimestampAsync(at / 1000, ct);
            var key = AnvilChain.Key(who);
            var signed = key.SignTransaction(build(key.Address, await embedded.GetNonceAsync(key.Address, ct)), AnvilChain.ChainId);
            var a = await AnvilChain.OutcomeAsync(embedded, signed, ct);
            Assert.Equal(a, await AnvilChain.OutcomeAsync(evm, signed, ct));
            return a;
        }
        var ten = AnvilChain.Key("ten").Address;
        var block = (long)rules.BlockIntervalMs;
        foreach (var name in new[] { "pro", "pam" })
        {
            Assert.Null(await Step(time + 1_000, name, (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "http://127.0.0.1:9000/", Attributes = "{}", Capacity = MarketChain.CapacityJson }));
        }
        // Two groups leased at 7,000 and 3,000 uact a block from a deposit of 0.5 token (500,000 uact): 50 blocks of runway.
        Assert.Null(await Step(time + 1_000, "ten", (f, n) => new CreateDeployment
        {
            From = f, Nonce = n, Dseq = 1, ManifestHash = MarketChain.Sample(1), Deposit = rules.MinDeposit,
            Groups = GroupSpec.ToCanonicalJson([MarketChain.Group("a", price: "7000"), MarketChain.Group("b", price: "5000")]),
        }));
        Assert.Null(await Step(time + 1_000, "pro", (f, n) => new CreateBid { From = f, Nonce = n, Owner = ten, Dseq = 1, Gseq = 1, Oseq = 1, Price = 7_000 * uact }));
        Assert.Null(await Step(time + 1_000, "pam", (f, n) => new CreateBid { From = f, Nonce = n, Owner = ten, Dseq = 1, Gseq = 2, Oseq = 1, Price = 3_000 * uact }));
        Assert.Null(await Step(time + 1_000, "ten", (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = 1, Gseq = 1, Oseq = 1, Provider = AnvilChain.Key("pro").Address }));
        Assert.Null(await Step(time + 1_000, "ten", (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = 1, Gseq = 2, Oseq = 1, Provider = AnvilChain.Key("pam").Address }));
        // Twenty blocks on, pro withdraws what it earned so far; sixty blocks on, the escrow has run dry and a top-up is refused.
        Assert.Null(await Step(time + (20 * block), "pro", (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = ten, Dseq = 1, Gseq = 1, Oseq = 1 }));
        var refusal = await Step(time + (40 * block), "tia", (f, n) => new DepositDeployment { From = f, Nonce = n, Owner = ten, Dseq = 1, Amount = Tokens.Whole(1) });
        Assert.Equal(LedgerError.DeploymentClosed, refusal?.Code);
        Assert.Contains("insufficient_funds", refusal!.Value.Message, StringComparison.Ordinal);
        // A refusal changes nothing on either backend; the next block does what is due (the embedded ledger's start of
        // block, the keeper on the chain).
        time += 1_000;
        clock.Now = time;
        await chain.Node.SetNextBlockTimestampAsync(time / 1000, ct);
        await embedded.ProduceEmptyBlockAsync(ct);
        Assert.Equal(1, await evm.SettleDueAsync(DateTimeOffset.FromUnixTimeMilliseconds(time), ct));
        Assert.Equal(0, await evm.SettleDueAsync(DateTimeOffset.FromUnixTimeMilliseconds(time), ct));

        var a = (await embedded.GetDeploymentAsync(new DeploymentId(ten, 1), ct))!;
        var b = (await evm.GetDeploymentAsync(new DeploymentId(ten, 1), ct))!;
        Assert.Equal(Describe(a), Describe(b));
        Assert.Equal(("insufficient_funds", UInt128.Zero, rules.MinDeposit), (b.CloseReason, b.Escrow.Balance, b.Escrow.Transferred));
        // Every unit deposited reached a provider: pro 7/10 and pam 3/10 of the 50 whole blocks, nothing left over.
        var paid = b.Leases.ToDictionary(l => l.Id.Provider, l => l.Paid);
        Assert.Equal(rules.MinDeposit, paid.Values.Aggregate(UInt128.Zero, (x, y) => x + y));
        Assert.Equal(7_000 * uact * 50, paid[AnvilChain.Key("pro").Address]);
        foreach (var name in Names)
        {
            var address = AnvilChain.Key(name).Address;
            Assert.Equal(await embedded.GetBalanceAsync(address, ct), await evm.GetBalanceAsync(address, ct));
        }
    }

    private static GroupSpec[] Groups(Random random)
    {
        var count = random.Next(1, 3);
        return Enumerable.Range(0, count).Select(i => MarketChain.Group(
            name: $"g{i}", price: random.Next(5) == 0 ? "0.5" : (random.Next(2, 13) * 1_000).ToString(CultureInfo.InvariantCulture),
            attributes: random.Next(3) == 0 ? new Dictionary<string, string> { ["region"] = "eu" } : null,
            anyOf: random.Next(5) == 0 ? [AnvilChain.Key("aud").Address.ToString()] : null)).ToArray();
    }

    /// <summary>A whole second ten seconds past the chain's head: the genesis time of a test, ahead of every block so far.</summary>
    private async Task<long> StartAsync(CancellationToken ct)
    {
        await using var probe = await EvmLedger.DeployAsync(chain.Node.Rpc, chain.Node.DevKey, AnvilChain.Genesis(["probe"]), ct);
        return ((await probe.GetStatusAsync(ct)).Timestamp / 1000 + 10) * 1000;
    }

    private static string Name(Address address) => Names.First(n => AnvilChain.Key(n).Address == address);

    private static string Describe(ProviderInfo p) =>
        $"{p.Owner} {p.HostUri} {JsonSerializer.Serialize(p.Attributes)} {p.RegisteredAt} audits[{string.Join(";", p.Audits.Select(a => $"{a.Key}={JsonSerializer.Serialize(a.Value)}"))}]";

    private static string Describe(DeploymentInfo d)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{d.Id} {d.Status} {d.CreatedAt} {d.ClosedAt} {d.CloseReason} escrow {d.Escrow}");
        foreach (var g in d.Groups)
        {
            text.Append(CultureInfo.InvariantCulture, $" | g{g.Gseq} {g.Spec.Name} {g.CeilingPerBlock}");
            foreach (var o in g.Orders)
            {
                text.Append(CultureInfo.InvariantCulture, $" o{o.Id.Oseq} {o.Status} {o.CreatedAt} bids[{string.Join(";", o.Bids)}] lease {o.Lease}");
            }
        }
        return text.ToString();
    }

    /// <summary>Ledger time the test sets, step by step.</summary>
    private sealed class Clock(long start) : TimeProvider
    {
        public long Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(Now);
    }
}
