using Skein.Core;

namespace Skein.Ledger.Transactions;

/// <summary>The transaction that puts a task spec on the ledger: <c>create_tournament</c> for a tournament, <c>create_task</c> for a federated task.</summary>
public static class TaskCreation
{
    public static Transaction For(TaskSpec spec, Address from, ulong nonce)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var specHash = Hash32.Parse(spec.Sha256());
        var pool = Tokens.Parse(spec.RewardPool, "reward_pool");
        var minStake = Tokens.Parse(spec.MinStake, "min_stake");
        var rejectBelow = (uint)Math.Round(spec.RejectBelow * 1_000_000);
        if (spec.IsTournament)
        {
            var t = spec.Tournament ?? throw new FormatException("tournament: is required with \"mode\": \"tournament\"");
            return new CreateTournament
            {
                From = from,
                Nonce = nonce,
                SpecHash = specHash,
                RewardPool = pool,
                Windows = spec.Rounds,
                MinStake = minStake,
                SubmissionsPerTrainer = t.SubmissionsPerTrainer,
                ValidatorsPerRound = spec.ValidatorsPerRound,
                RejectBelow = rejectBelow,
                DecayBps = t.DecayBps,
                SideFloorBps = t.SideFloorBps,
            };
        }
        return new CreateTask
        {
            From = from,
            Nonce = nonce,
            SpecHash = specHash,
            RewardPool = pool,
            Rounds = spec.Rounds,
            MinStake = minStake,
            TrainersPerRound = spec.TrainersPerRound,
            ValidatorsPerRound = spec.ValidatorsPerRound,
            RejectBelow = rejectBelow,
        };
    }
}
