namespace Skein.Ledger.Incentives;

/// <summary>Splits a role stake's reward or slash between its operator and the delegators behind it.</summary>
public static class StakeSplit
{
    /// <summary>
    /// A reward earned by an operator's role stake: the delegators' part is pro rata to stake, the operator keeps
    /// commission on it, and the operator gets everything else (its own share, the commission and all floor dust),
    /// so the parts sum exactly to <paramref name="reward"/>. Operator first, then delegators in the given order;
    /// zero amounts are left out except the operator's. Entries are not merged: one per delegation given.
    /// </summary>
    public static IReadOnlyList<(Address Account, UInt128 Amount)> Reward(
        UInt128 reward,
        Address operatorAddress,
        UInt128 selfStake,
        uint commissionBps,
        IReadOnlyList<(Address Delegator, UInt128 Amount)> delegations)
    {
        ArgumentNullException.ThrowIfNull(delegations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(commissionBps, IncentiveParams.BpsDenominator);
        var delegated = Sum(delegations);
        var total = checked(selfStake + delegated);
        if (total == 0 || delegated == 0)
        {
            return [(operatorAddress, reward)];
        }
        var delegatorsPart = Tokens.MulDiv(reward, delegated, total);
        var commission = Tokens.MulDiv(delegatorsPart, commissionBps, IncentiveParams.BpsDenominator);
        var shared = delegatorsPart - commission;
        var parts = new List<(Address, UInt128)>(delegations.Count + 1) { (operatorAddress, 0) };
        var toDelegators = UInt128.Zero;
        foreach (var (delegator, amount) in delegations)
        {
            var part = Tokens.MulDiv(shared, amount, delegated);
            if (part > 0)
            {
                parts.Add((delegator, part));
                toDelegators += part;
            }
        }
        parts[0] = (operatorAddress, reward - toDelegators);
        return parts;
    }

    /// <summary>
    /// A slash of a role stake: min(slash, total) is taken pro rata (floored) from each delegation, the rest from self
    /// stake, and, when self stake is short, what remains from the delegations in order, never more than each holds.
    /// FromDelegations is aligned with <paramref name="delegations"/> (same order and length, zeros included).
    /// </summary>
    public static (UInt128 FromSelf, IReadOnlyList<(Address Delegator, UInt128 Amount)> FromDelegations) Slash(
        UInt128 slashAmount,
        UInt128 selfStake,
        IReadOnlyList<(Address Delegator, UInt128 Amount)> delegations)
    {
        ArgumentNullException.ThrowIfNull(delegations);
        var delegated = Sum(delegations);
        var total = checked(selfStake + delegated);
        var take = UInt128.Min(slashAmount, total);
        var fromDelegations = new (Address Delegator, UInt128 Amount)[delegations.Count];
        var taken = UInt128.Zero;
        for (var i = 0; i < delegations.Count; i++)
        {
            var part = total == 0 ? 0 : Tokens.MulDiv(take, delegations[i].Amount, total);
            fromDelegations[i] = (delegations[i].Delegator, part);
            taken += part;
        }
        var fromSelf = UInt128.Min(selfStake, take - taken);
        var remainder = take - taken - fromSelf;
        // Only floor dust can remain here (fewer base units than there are delegations), and only when self stake
        // is short of its own pro-rata part plus that dust; every delegation still has room for it in total.
        for (var i = 0; i < delegations.Count && remainder > 0; i++)
        {
            var more = UInt128.Min(remainder, delegations[i].Amount - fromDelegations[i].Amount);
            fromDelegations[i].Amount += more;
            remainder -= more;
        }
        return (fromSelf, fromDelegations);
    }

    private static UInt128 Sum(IReadOnlyList<(Address Delegator, UInt128 Amount)> delegations)
    {
        var sum = UInt128.Zero;
        foreach (var (_, amount) in delegations)
        {
            sum = checked(sum + amount);
        }
        return sum;
    }
}
