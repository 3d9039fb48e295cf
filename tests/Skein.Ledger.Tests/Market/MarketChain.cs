using System.Text.Json;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Market;

/// <summary>A test chain with market helpers: named providers and tenants, groups priced in uact, and one-line transactions.</summary>
internal sealed class MarketChain
{
    public static readonly ProviderCapacity Capacity = new(8_000, 32UL << 30, 500UL << 30, []);

    public MarketChain(params string[] names)
        : this(LedgerParams.Default with { UnbondingBlocks = 3 }, names)
    {
    }

    public MarketChain(LedgerParams parameters, params string[] names)
    {
        C = new TestChain(parameters, names);
        C.NextBlock();
    }

    public TestChain C { get; }

    public LedgerState State => C.State;

    public MarketParams Rules => C.Genesis.Params.MarketRules;

    public Address this[string name] => C[name];

    /// <summary>n uact in base units.</summary>
    public UInt128 Uact(ulong n) => n * Rules.BaseUnitsPerDenomUnit;

    public static GroupSpec Group(string name = "train", string price = "1000", uint count = 1, IReadOnlyDictionary<string, string>? attributes = null,
        string[]? allOf = null, string[]? anyOf = null, string denom = "uact", uint gpus = 0) =>
        new(name, new PlacementRequirements(attributes ?? new Dictionary<string, string>(), allOf ?? [], anyOf ?? []),
            [new GroupResource("node", new ResourceUnits(2_000, 4UL << 30, [new StorageUnits("default", 10UL << 30, "default", false)], gpus,
                gpus > 0 ? [new GpuModel("nvidia", "a100")] : []), count, new DecCoin(denom, price))]);

    public void Register(string provider, IReadOnlyDictionary<string, string>? attributes = null, string host = "http://127.0.0.1:9000/") =>
        C.Do(provider, (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = host, Attributes = JsonSerializer.Serialize(attributes ?? new Dictionary<string, string>()), Capacity = CapacityJson });

    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string CapacityJson => JsonSerializer.Serialize(Capacity, Snake);

    public Func<Address, ulong, Transaction> DeployTx(ulong dseq, UInt128 deposit, params GroupSpec[] groups) =>
        (f, n) => new CreateDeployment { From = f, Nonce = n, Dseq = dseq, ManifestHash = Sample(dseq), Groups = GroupSpec.ToCanonicalJson(groups), Deposit = deposit };

    public void Deploy(string owner, ulong dseq, UInt128 deposit, params GroupSpec[] groups) => C.Do(owner, DeployTx(dseq, deposit, groups));

    public void Bid(string provider, string owner, ulong dseq, UInt128 price, uint gseq = 1, uint oseq = 1) =>
        C.Do(provider, (f, n) => new CreateBid { From = f, Nonce = n, Owner = this[owner], Dseq = dseq, Gseq = gseq, Oseq = oseq, Price = price });

    public void Lease(string owner, ulong dseq, string provider, uint gseq = 1, uint oseq = 1) =>
        C.Do(owner, (f, n) => new CreateLease { From = f, Nonce = n, Owner = this[owner], Dseq = dseq, Gseq = gseq, Oseq = oseq, Provider = this[provider] });

    public void Withdraw(string provider, string owner, ulong dseq, uint gseq = 1, uint oseq = 1) =>
        C.Do(provider, (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = this[owner], Dseq = dseq, Gseq = gseq, Oseq = oseq });

    public void CloseDeployment(string owner, ulong dseq) => C.Do(owner, (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = dseq });

    public DeploymentInfo Deployment(string owner, ulong dseq) => MarketQueries.Deployment(State, new DeploymentId(this[owner], dseq))!;

    public LeaseState? LeaseOf(string owner, ulong dseq, uint gseq = 1, uint oseq = 1) =>
        State.Market.Deployments[new DeploymentId(this[owner], dseq)].Groups[(int)gseq - 1].Orders.First(o => o.Oseq == oseq).Lease;

    public UInt128 Balance(string name) => State.BalanceOf(this[name]);

    public void Blocks(int count)
    {
        for (var i = 0; i < count; i++)
        {
            C.NextBlock();
        }
    }

    public static Hash32 Sample(ulong seed)
    {
        var bytes = new byte[32];
        BitConverter.TryWriteBytes(bytes, seed + 1);
        bytes[31] = 0x5a;
        return new Hash32(bytes);
    }
}
