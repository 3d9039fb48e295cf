using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

/// <summary>One transaction of every type, with distinct non-zero field values so that a field encoded in the wrong place shows.</summary>
internal static class SampleTransactions
{
    public static readonly Address Other = Address.Parse("0x00000000000000000000000000000000000000aa");

    public static Hash32 H(byte fill)
    {
        var bytes = new byte[32];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(fill + i);
        }
        return new Hash32(bytes);
    }

    public static IReadOnlyList<Transaction> All(Address from) =>
    [
        new Transfer { From = from, Nonce = 1, To = Other, Amount = Tokens.Whole(12) + 345 },
        new Stake { From = from, Nonce = 2, Role = Role.Validator, Amount = Tokens.Whole(100) },
        new Unstake { From = from, Nonce = 3, Role = Role.Trainer, Amount = 7 },
        new DelegateStake { From = from, Nonce = 4, Operator = Other, Role = Role.Validator, Amount = UInt128.MaxValue },
        new UndelegateStake { From = from, Nonce = 5, Operator = Other, Role = Role.Trainer, Amount = 1 },
        new SetCommission { From = from, Nonce = 6, CommissionBps = 1_250 },
        new CreateTask
        {
            From = from,
            Nonce = 7,
            SpecHash = H(1),
            RewardPool = Tokens.Whole(1_000),
            Rounds = 10,
            MinStake = Tokens.Whole(5),
            TrainersPerRound = 8,
            ValidatorsPerRound = 3,
            RejectBelow = 400_000,
        },
        new JoinTask { From = from, Nonce = 8, TaskId = 42, Role = Role.Trainer },
        new OpenRound { From = from, Nonce = 9, TaskId = 42, Round = 3, ModelHash = H(2) },
        new SubmitUpdate { From = from, Nonce = 10, TaskId = 42, Round = 3, UpdateHash = H(3), Samples = 6_000 },
        new CloseTraining { From = from, Nonce = 11, TaskId = 42, Round = 3 },
        new CommitScores { From = from, Nonce = 12, TaskId = 42, Round = 3, Commitment = H(4) },
        new CloseCommits { From = from, Nonce = 13, TaskId = 42, Round = 3 },
        new RevealScores { From = from, Nonce = 14, TaskId = 42, Round = 3, Scores = [1_000_000, 0, 999_999, ulong.MaxValue], Salt = H(5) },
        new FinalizeRound { From = from, Nonce = 15, TaskId = 42, Round = 3, NewModelHash = H(6) },
        new RegisterProvider { From = from, Nonce = 16, HostUri = "https://provider.example:8443/", Attributes = "{\"region\":\"eu\"}", Capacity = "{\"cpu_millis\":8000}" },
        new SignProviderAttributes { From = from, Nonce = 17, Provider = Other, Attributes = "{\"tier\":\"audited\"}" },
        new CreateDeployment { From = from, Nonce = 18, Dseq = 1_234_567, ManifestHash = H(7), Groups = "[{\"name\":\"train\"}]", Deposit = Tokens.Whole(5) + 9 },
        new DepositDeployment { From = from, Nonce = 19, Owner = Other, Dseq = 1_234_567, Amount = Tokens.Whole(3) },
        new CloseDeployment { From = from, Nonce = 20, Owner = Other, Dseq = 1_234_567 },
        new CreateBid { From = from, Nonce = 21, Owner = Other, Dseq = 1_234_567, Gseq = 2, Oseq = 3, Price = 1_000_000_000_000_000 },
        new CloseBid { From = from, Nonce = 22, Owner = Other, Dseq = 1_234_567, Gseq = 2, Oseq = 3 },
        new CreateLease { From = from, Nonce = 23, Owner = Other, Dseq = 1_234_567, Gseq = 2, Oseq = 3, Provider = from },
        new WithdrawLease { From = from, Nonce = 24, Owner = Other, Dseq = 1_234_567, Gseq = 2, Oseq = 3 },
        new CloseLease { From = from, Nonce = 25, Owner = Other, Dseq = 1_234_567, Gseq = 2, Oseq = 3, Provider = from },
    ];

    public static TheoryData<int> Indexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < All(Address.Zero).Count; i++)
        {
            data.Add(i);
        }
        return data;
    }
}
