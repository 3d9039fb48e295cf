using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Governance;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Fuzz.Targets;

/// <summary>Three fixed keys, funded in a small genesis, and valid signed transactions of most kinds from them: the seeds of the ledger targets.</summary>
internal static class LedgerFixture
{
    public const ulong ChainId = 4242;

    public static readonly LedgerKey[] Keys = [.. Enumerable.Range(1, 3).Select(i => LedgerKey.FromPrivateKey(Enumerable.Repeat((byte)(0x10 * i), 32).ToArray()))];

    public static Genesis Genesis { get; } = new(ChainId, LedgerParams.Default with { Market = MarketParams.Default, Governance = GovernanceParams.Default },
        [.. Keys.Select(k => new GenesisAllocation(k.Address, Tokens.Whole(1_000)))], 1_700_000_000_000);

    public static LedgerKey? KeyOf(Address address) => Keys.FirstOrDefault(k => k.Address == address);

    /// <summary>Unsigned transactions of most kinds, each valid on a fresh state from <see cref="Genesis"/> at nonce 0.</summary>
    public static IReadOnlyList<Transaction> Transactions()
    {
        var (a, b, c) = (Keys[0].Address, Keys[1].Address, Keys[2].Address);
        var hash = new Hash32(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var sdl = Skein.Market.Sdl.SdlDocument.Parse(System.Text.Encoding.UTF8.GetString(SeedFiles.Load("sdl")[0])).Document;
        var groups = sdl is null ? "[]" : GroupSpec.ToCanonicalJson(sdl.ToGroups());
        var capacity = System.Text.Json.JsonSerializer.Serialize(new ProviderCapacity(8000, 16L << 30, 100L << 30, [new GpuCount("nvidia", "a100", 2, "80Gi", "pcie")]),
            SignedTransaction.JsonOptions);
        return
        [
            new Transfer { From = a, Nonce = 0, To = b, Amount = Tokens.Whole(5) },
            new Stake { From = a, Nonce = 0, Role = Role.Trainer, Amount = Tokens.Whole(10) },
            new Unstake { From = a, Nonce = 0, Role = Role.Validator, Amount = 1 },
            new DelegateStake { From = b, Nonce = 0, Operator = a, Role = Role.Validator, Amount = Tokens.Whole(3) },
            new SetCommission { From = c, Nonce = 0, CommissionBps = 500 },
            new CreateTask { From = a, Nonce = 0, SpecHash = hash, RewardPool = Tokens.Whole(100), Rounds = 2, MinStake = 0, TrainersPerRound = 1, ValidatorsPerRound = 1, RejectBelow = 500_000 },
            new JoinTask { From = b, Nonce = 0, TaskId = 1, Role = Role.Trainer },
            new OpenRound { From = a, Nonce = 0, TaskId = 1, Round = 1, ModelHash = hash },
            new RevealScores { From = c, Nonce = 0, TaskId = 1, Round = 1, Scores = [1, 1_000_000, ulong.MaxValue], Salt = hash },
            new RegisterProvider { From = c, Nonce = 0, HostUri = "https://provider.example:8443", Attributes = """{"region":"eu","tier":"community"}""", Capacity = capacity },
            new SignProviderAttributes { From = a, Nonce = 0, Provider = c, Attributes = """{"audited":"true"}""" },
            new CreateDeployment { From = b, Nonce = 0, Dseq = 1, ManifestHash = hash, Groups = groups, Deposit = Tokens.Whole(5) },
            new CreateBid { From = c, Nonce = 0, Owner = b, Dseq = 1, Gseq = 1, Oseq = 1, Price = 10 },
            new CreateLease { From = b, Nonce = 0, Owner = b, Dseq = 1, Gseq = 1, Oseq = 1, Provider = c },
            new SubmitProposal { From = a, Nonce = 0, Kind = ProposalKind.ParameterChange, Parameter = "governance.quorum_bps", Value = 4000, Deposit = Tokens.Whole(10) },
            new VoteProposal { From = b, Nonce = 0, ProposalId = 1, Option = VoteOption.Yes },
        ];
    }

    public static SignedTransaction Sign(Transaction tx) => (KeyOf(tx.From) ?? Keys[0]).Sign(tx.Digest(ChainId)) is var s ? new SignedTransaction(tx, s) { ChainId = ChainId } : null!;
}
