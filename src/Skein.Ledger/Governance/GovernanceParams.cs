namespace Skein.Ledger.Governance;

/// <summary>
/// How proposals are decided: the deposit to propose, the voting period, and the quorum, threshold and veto
/// shares (basis points), plus whether new tasks need a passed proposal and what share of emission and slashes
/// feeds the community treasury. All of them are governed parameters themselves.
/// </summary>
/// <param name="MinDeposit">Base units a proposer locks; returned on pass or fail, burned on veto.</param>
/// <param name="VotingPeriodBlocks">Blocks from a proposal's start to its tally.</param>
/// <param name="QuorumBps">Share of the snapshot's voting power that must vote (abstain counts) for a tally to count.</param>
/// <param name="ThresholdBps">Share of yes among yes, no and no-with-veto above which a proposal passes.</param>
/// <param name="VetoBps">Share of no-with-veto among all votes at or above which a proposal is vetoed and its deposit burned.</param>
/// <param name="TaskApproval">When on, a new task opens no round until a task_approval proposal for it has passed.</param>
/// <param name="TreasuryEmissionBps">Share of each round's emission minted to the treasury instead of the round's reward.</param>
/// <param name="TreasurySlashBps">Share of each slash paid to the treasury instead of burned.</param>
/// <param name="MaxSupply">The supply emission may never push the chain past; a change to emission that could is refused when proposed.</param>
public sealed record GovernanceParams(
    UInt128 MinDeposit,
    ulong VotingPeriodBlocks,
    uint QuorumBps,
    uint ThresholdBps,
    uint VetoBps,
    bool TaskApproval,
    uint TreasuryEmissionBps,
    uint TreasurySlashBps,
    UInt128 MaxSupply)
{
    public const uint Bps = 10_000;

    /// <summary>Cosmos's defaults (deposit 10 tokens, quorum 33.4%, threshold 50%, veto 33.4%), a 100-block period, open task creation, no treasury share, and a cap of 1e12 tokens.</summary>
    public static GovernanceParams Default { get; } = new(
        MinDeposit: Tokens.Whole(10),
        VotingPeriodBlocks: 100,
        QuorumBps: 3_340,
        ThresholdBps: 5_000,
        VetoBps: 3_340,
        TaskApproval: false,
        TreasuryEmissionBps: 0,
        TreasurySlashBps: 0,
        MaxSupply: Tokens.Whole(1_000_000_000_000));

    /// <summary>Null when usable, else the first problem, naming the field as <see cref="GovernedParameters"/> does.</summary>
    public string? Validate()
    {
        var withThese = Skein.Ledger.State.LedgerParams.Default with { Governance = this };
        foreach (var p in GovernedParameters.All.Where(p => p.Name.StartsWith("governance.", StringComparison.Ordinal)))
        {
            if (p.Check(p.Read(withThese)) is { } error)
            {
                return "params." + error;
            }
        }
        return null;
    }
}
