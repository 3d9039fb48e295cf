using System.Collections.Immutable;
using System.Numerics;

namespace Skein.Ledger.Incentives;

/// <summary>Settles one round: consensus and verdict per update, agreement per validator, rewards, slashes and leftovers.</summary>
public static class RoundSettlement
{
    /// <summary>Applies the rules of docs/incentives.md to <paramref name="input"/>; throws ArgumentException when it does not validate.</summary>
    public static SettlementResult Compute(SettlementInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(input));
        }
        var p = input.Params;
        var updates = input.Updates;
        var revealed = input.Revealed;

        var totalWeight = UInt128.Zero;
        foreach (var r in revealed)
        {
            totalWeight += r.Weight;
        }
        // Without revealed stake there is no opinion to follow: nothing is accepted, nothing rejected.
        var decides = totalWeight > 0;

        var consensus = new ulong[updates.Count];
        var rejectWeights = new UInt128[updates.Count];
        var rejected = new bool[updates.Count];
        var accepted = new bool[updates.Count];
        for (var u = 0; u < updates.Count; u++)
        {
            var votes = new (Address, UInt128, ulong)[revealed.Count];
            for (var v = 0; v < revealed.Count; v++)
            {
                votes[v] = (revealed[v].Validator, revealed[v].Weight, revealed[v].Scores[u]);
                if (revealed[v].Scores[u] < input.RejectBelow)
                {
                    rejectWeights[u] += revealed[v].Weight;
                }
            }
            consensus[u] = decides ? Consensus.WeightedMedian(votes) : 0;
            rejected[u] = Consensus.IsRejected(rejectWeights[u], totalWeight, p.SupermajorityBps);
            accepted[u] = !rejected[u] && consensus[u] > 0;
        }

        var trainerPool = Tokens.MulDiv(input.RoundReward, p.TrainerShareBps, IncentiveParams.BpsDenominator);
        var validatorPool = input.RoundReward - trainerPool;

        // Trainers: accepted updates share the pool in proportion to consensus score times samples.
        // Each weight is below 2^20 * 2^64, so the sum over any list of updates fits in 128 bits.
        var contribution = new UInt128[updates.Count];
        var totalContribution = UInt128.Zero;
        for (var u = 0; u < updates.Count; u++)
        {
            contribution[u] = accepted[u] ? (UInt128)consensus[u] * updates[u].Samples : 0;
            totalContribution += contribution[u];
        }
        var updateRewards = new UInt128[updates.Count];
        var trainerRewards = new SortedDictionary<Address, UInt128>();
        var paid = UInt128.Zero;
        if (totalContribution > 0)
        {
            for (var u = 0; u < updates.Count; u++)
            {
                updateRewards[u] = Tokens.MulDiv(trainerPool, contribution[u], totalContribution);
                if (updateRewards[u] > 0)
                {
                    trainerRewards[updates[u].Trainer] = trainerRewards.GetValueOrDefault(updates[u].Trainer) + updateRewards[u];
                    paid += updateRewards[u];
                }
            }
        }

        // Validators: agreement is the floored mean of the clipped per-update agreements.
        var agreement = new SortedDictionary<Address, uint>();
        var earning = new BigInteger[revealed.Count];
        var totalEarning = BigInteger.Zero;
        for (var v = 0; v < revealed.Count; v++)
        {
            var a = IncentiveParams.BpsDenominator;
            if (updates.Count > 0)
            {
                ulong sum = 0;
                for (var u = 0; u < updates.Count; u++)
                {
                    sum += Consensus.Agreement(revealed[v].Scores[u], consensus[u], p.AgreementTolerance);
                }
                a = (uint)(sum / (ulong)updates.Count);
            }
            agreement[revealed[v].Validator] = a;
            // Weight * agreement can pass 2^128 (the total weight fits in 128 bits, so the sum stays below 2^142).
            earning[v] = (BigInteger)revealed[v].Weight * a;
            totalEarning += earning[v];
        }
        var validatorRewards = new SortedDictionary<Address, UInt128>();
        if (!totalEarning.IsZero)
        {
            for (var v = 0; v < revealed.Count; v++)
            {
                // earning <= totalEarning, so the quotient is at most the pool and fits.
                var reward = (UInt128)((BigInteger)validatorPool * earning[v] / totalEarning);
                if (reward > 0)
                {
                    validatorRewards[revealed[v].Validator] = reward;
                    paid += reward;
                }
            }
        }

        var slashedTrainers = new List<Address>();
        var slashedOnce = new HashSet<Address>();
        for (var u = 0; u < updates.Count; u++)
        {
            if (rejected[u] && slashedOnce.Add(updates[u].Trainer))
            {
                slashedTrainers.Add(updates[u].Trainer);
            }
        }

        var verdicts = new UpdateVerdict[updates.Count];
        for (var u = 0; u < updates.Count; u++)
        {
            verdicts[u] = new UpdateVerdict(u, updates[u].Trainer, consensus[u], accepted[u], rejectWeights[u], totalWeight)
            {
                Rejected = rejected[u],
                Reward = updateRewards[u],
            };
        }

        var undistributed = input.RoundReward - paid;
        // Payouts are drawn from the emission first: emission is minted only as far as someone earned it.
        var minted = UInt128.Min(input.EmissionPart, paid);
        return new SettlementResult(
            verdicts,
            trainerRewards.ToImmutableSortedDictionary(),
            validatorRewards.ToImmutableSortedDictionary(),
            agreement.ToImmutableSortedDictionary(),
            [.. slashedTrainers],
            [.. input.Unrevealed],
            undistributed)
        {
            TrainerPool = trainerPool,
            ValidatorPool = validatorPool,
            Minted = minted,
            ReturnedToEscrow = undistributed - (input.EmissionPart - minted),
        };
    }
}
