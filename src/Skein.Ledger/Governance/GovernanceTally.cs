using Skein.Ledger.State;

namespace Skein.Ledger.Governance;

/// <summary>A vote's option, as Cosmos chains have them.</summary>
public enum VoteOption : byte
{
    Yes = 1,
    Abstain = 2,
    No = 3,
    NoWithVeto = 4,
}

/// <summary>
/// Voting power frozen at a proposal's start: every account's own stake (all roles) and every delegation
/// (summed over roles). Stake moved afterwards changes nothing about this proposal.
/// </summary>
public sealed record VotingSnapshot(IReadOnlyDictionary<Address, UInt128> Own, IReadOnlyDictionary<(Address Delegator, Address Operator), UInt128> Delegations)
{
    /// <summary>
    /// Power of stakes the snapshot does not list: an EVM chain keeps stake checkpoints rather than a full copy, so its
    /// snapshots list only the voters' own stakes and delegations and count everyone else's power here (0 on the embedded ledger).
    /// </summary>
    public UInt128 Unlisted { get; init; }

    public UInt128 TotalPower => Own.Values.Aggregate(UInt128.Zero, (a, b) => a + b) + Delegations.Values.Aggregate(UInt128.Zero, (a, b) => a + b) + Unlisted;

    /// <summary>The power <paramref name="voter"/> can cast: its own stake plus what others delegated to it, plus what it delegated.</summary>
    public UInt128 PowerOf(Address voter) =>
        Own.GetValueOrDefault(voter)
        + Delegations.Where(d => d.Key.Operator == voter || d.Key.Delegator == voter).Aggregate(UInt128.Zero, (a, d) => a + d.Value);

    public static VotingSnapshot Take(LedgerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = new SortedDictionary<Address, UInt128>();
        foreach (var ((address, _), stake) in state.Stakes)
        {
            if (stake.Self > 0)
            {
                own[address] = own.GetValueOrDefault(address) + stake.Self;
            }
        }
        var delegations = new SortedDictionary<(Address, Address), UInt128>();
        foreach (var ((delegator, operatorAddress, _), amount) in state.Delegations)
        {
            delegations[(delegator, operatorAddress)] = delegations.GetValueOrDefault((delegator, operatorAddress)) + amount;
        }
        return new VotingSnapshot(own, delegations);
    }
}

/// <summary>A proposal's count: power per option, the snapshot's total, and what the rules make of it.</summary>
public sealed record TallyResult(UInt128 Yes, UInt128 Abstain, UInt128 No, UInt128 NoWithVeto, UInt128 TotalPower, bool QuorumReached, bool Vetoed, bool Passed)
{
    public UInt128 Voted => Yes + Abstain + No + NoWithVeto;
}

/// <summary>
/// The tally. An account's own stake votes as it votes. A delegation votes as its delegator votes, or, if the
/// delegator has not voted, as its operator votes (so a delegator's own vote overrides its operator's for exactly
/// its share); power whose holder and operator both stayed silent is not counted. Then, in basis points of
/// <see cref="GovernanceParams"/>: quorum when voted power (abstain included) reaches <c>quorum_bps</c> of the
/// snapshot's power; vetoed when no-with-veto reaches <c>veto_bps</c> of the voted power; passed when quorum is
/// reached, it is not vetoed, and yes exceeds <c>threshold_bps</c> of yes + no + no-with-veto.
/// </summary>
public static class GovernanceTally
{
    public static TallyResult Count(VotingSnapshot snapshot, IReadOnlyDictionary<Address, VoteOption> votes, GovernanceParams rules)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(votes);
        ArgumentNullException.ThrowIfNull(rules);
        var power = new UInt128[5];
        foreach (var (voter, own) in snapshot.Own)
        {
            if (votes.TryGetValue(voter, out var option))
            {
                power[(int)option] += own;
            }
        }
        foreach (var ((delegator, operatorAddress), amount) in snapshot.Delegations)
        {
            if (votes.TryGetValue(delegator, out var own) || votes.TryGetValue(operatorAddress, out own))
            {
                power[(int)own] += amount;
            }
        }
        var (yes, abstain, no, veto) = (power[(int)VoteOption.Yes], power[(int)VoteOption.Abstain], power[(int)VoteOption.No], power[(int)VoteOption.NoWithVeto]);
        var total = snapshot.TotalPower;
        var voted = yes + abstain + no + veto;
        var quorum = total > 0 && voted * GovernanceParams.Bps >= total * rules.QuorumBps;
        var vetoed = quorum && voted > 0 && veto * GovernanceParams.Bps >= voted * rules.VetoBps;
        var deciding = yes + no + veto;
        var passed = quorum && !vetoed && deciding > 0 && yes * GovernanceParams.Bps > deciding * rules.ThresholdBps;
        return new TallyResult(yes, abstain, no, veto, total, quorum, vetoed, passed);
    }
}
