namespace Skein.Ledger.Governance;

/// <summary>What a proposal asks for.</summary>
public enum ProposalKind : byte
{
    /// <summary>Sets one governed parameter (<see cref="GovernedParameters"/>).</summary>
    ParameterChange = 1,

    /// <summary>Lets a task open rounds while <c>governance.task_approval</c> is on; a task whose approval fails is closed and its pool returned.</summary>
    TaskApproval = 2,

    /// <summary>Marks one of a task's models as its released version, with a name and a license tag.</summary>
    ModelRelease = 3,

    /// <summary>Pays from the community treasury to an account, or into a task's reward pool before its first round settles.</summary>
    TreasurySpend = 4,
}

/// <summary>Where a proposal stands.</summary>
public enum ProposalStatus : byte
{
    Voting = 1,
    Passed = 2,
    Rejected = 3,
    Vetoed = 4,

    /// <summary>Passed, but what it asked could no longer be done at its end (e.g. the treasury no longer held the amount); nothing changed but the deposit's return.</summary>
    Failed = 5,
}

/// <summary>A released model of a task, as a passed <c>model_release</c> proposal recorded it.</summary>
public sealed record ModelReleaseInfo(Hash32 ModelHash, string Name, string License, ulong ProposalId, ulong Height);

/// <summary>A proposal on the ledger: what it asks, its deposit, the snapshot of voting power it started with, its votes and its outcome.</summary>
public sealed class ProposalState
{
    public required ulong Id { get; init; }

    public required ProposalKind Kind { get; init; }

    public required Address Proposer { get; init; }

    public required UInt128 Deposit { get; init; }

    public required ulong StartHeight { get; init; }

    public required ulong EndHeight { get; init; }

    public string Parameter { get; init; } = "";

    public UInt128 Value { get; init; }

    public ulong TaskId { get; init; }

    public Hash32 ModelHash { get; init; } = Hash32.Zero;

    public string Name { get; init; } = "";

    public string License { get; init; } = "";

    public Address Recipient { get; init; }

    public UInt128 Amount { get; init; }

    public required VotingSnapshot Snapshot { get; init; }

    public SortedDictionary<Address, VoteOption> Votes { get; } = [];

    public ProposalStatus Status { get; set; } = ProposalStatus.Voting;

    public TallyResult? Tally { get; set; }

    /// <summary>The height whose first step tallied and executed it (0 while voting).</summary>
    public ulong DecidedHeight { get; set; }

    public string Outcome { get; set; } = "";
}

/// <summary>A proposal as <see cref="ILedger.GetGovernanceAsync"/> reports it.</summary>
public sealed record ProposalInfo(
    ulong Id, string Kind, Address Proposer, UInt128 Deposit, ulong StartHeight, ulong EndHeight, string Status, string Outcome,
    string Parameter, UInt128 Value, ulong TaskId, Hash32 ModelHash, string Name, string License, Address Recipient, UInt128 Amount,
    UInt128 SnapshotPower, IReadOnlyDictionary<Address, VoteOption> Votes, TallyResult? Tally, ulong DecidedHeight)
{
    /// <summary>What it asks, in a line: "incentives.trainer_slash_bps = 2500", "approve task 3", ...</summary>
    public string Asks => Kind switch
    {
        "parameter_change" => $"{Parameter} = {Value}",
        "task_approval" => $"approve task {TaskId}",
        "model_release" => $"release {ModelHash.ToString()[..12]}… of task {TaskId} as '{Name}' ({License})",
        "treasury_spend" => TaskId != 0 ? $"{Tokens.Format(Amount)} into task {TaskId}'s pool" : $"{Tokens.Format(Amount)} to {Recipient}",
        _ => Kind,
    };

    /// <summary>The voting power frozen at the start, for counting a proposal still in its voting period.</summary>
    public required VotingSnapshot Snapshot { get; init; }

    public static ProposalInfo From(ProposalState p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.Id, GovernanceRules.Name(p.Kind), p.Proposer, p.Deposit, p.StartHeight, p.EndHeight, p.Status.ToString().ToLowerInvariant(), p.Outcome,
            p.Parameter, p.Value, p.TaskId, p.ModelHash, p.Name, p.License, p.Recipient, p.Amount, p.Snapshot.TotalPower,
            new SortedDictionary<Address, VoteOption>(p.Votes), p.Tally, p.DecidedHeight) { Snapshot = p.Snapshot };
    }
}

/// <summary>Governance as the ledger holds it: every governed parameter's value in force, the treasury, the proposals, and the tasks' released models.</summary>
public sealed record GovernanceInfo(
    IReadOnlyList<(string Name, UInt128 Value)> Parameters, UInt128 Treasury, IReadOnlyList<ProposalInfo> Proposals,
    IReadOnlyList<(ulong TaskId, ModelReleaseInfo Release)> Releases);
