namespace Skein.Ledger.Incentives;

/// <summary>The verdict on one update: its consensus score, whether it is accepted, and the votes that decided it.</summary>
/// <param name="Index">The update's position in submission order.</param>
/// <param name="Trainer">Who submitted it.</param>
/// <param name="ConsensusScore">The stake-weighted lower median of the revealed scores (0 when no stake revealed).</param>
/// <param name="Accepted">Not rejected and a consensus score above 0: it earns trainer rewards.</param>
/// <param name="RejectWeight">Revealed weight that scored it below the reject threshold.</param>
/// <param name="TotalWeight">All revealed weight.</param>
public sealed record UpdateVerdict(int Index, Address Trainer, ulong ConsensusScore, bool Accepted, UInt128 RejectWeight, UInt128 TotalWeight)
{
    /// <summary>A supermajority of the revealed weight voted to reject it: its trainer is slashed.</summary>
    public bool Rejected { get; init; }

    /// <summary>The trainer reward this update earned (0 unless accepted): the trace of every trainer payout.</summary>
    public UInt128 Reward { get; init; }
}

/// <summary>The outcome of settling one round: verdicts, payouts, slashes and what is left over.</summary>
/// <param name="Verdicts">One per update, in submission order.</param>
/// <param name="TrainerRewards">Per trainer with a non-zero reward, before its delegators' split; ordered by address.</param>
/// <param name="ValidatorRewards">Per validator with a non-zero reward, before its delegators' split; ordered by address.</param>
/// <param name="AgreementBps">Per revealed validator, 0..10000; ordered by address.</param>
/// <param name="SlashedTrainers">Trainers with at least one rejected update, each once, in order of their first rejected update.</param>
/// <param name="SlashedValidators">The validators that committed but did not reveal, in input order.</param>
/// <param name="Undistributed">RoundReward minus everything paid.</param>
public sealed record SettlementResult(
    IReadOnlyList<UpdateVerdict> Verdicts,
    IReadOnlyDictionary<Address, UInt128> TrainerRewards,
    IReadOnlyDictionary<Address, UInt128> ValidatorRewards,
    IReadOnlyDictionary<Address, uint> AgreementBps,
    IReadOnlyList<Address> SlashedTrainers,
    IReadOnlyList<Address> SlashedValidators,
    UInt128 Undistributed)
{
    /// <summary>The trainers' pool: floor(RoundReward * TrainerShareBps / 10000).</summary>
    public UInt128 TrainerPool { get; init; }

    /// <summary>The validators' pool: RoundReward minus the trainers' pool.</summary>
    public UInt128 ValidatorPool { get; init; }

    /// <summary>How much of <see cref="SettlementInput.EmissionPart"/> to mint: min(EmissionPart, paid out).</summary>
    public UInt128 Minted { get; init; }

    /// <summary>What goes back to the task's escrow: Undistributed minus the emission left unminted (= Undistributed when EmissionPart is 0).</summary>
    public UInt128 ReturnedToEscrow { get; init; }

    /// <summary>A tournament's trainers slashed for a copy (the same update as an earlier submission of another trainer in the task), each once; they are not also in <see cref="SlashedTrainers"/>.</summary>
    public IReadOnlyList<Address> Copiers { get; init; } = [];

    /// <summary>Everything paid: the sum of the trainer and validator rewards.</summary>
    public UInt128 Paid => TrainerPool + ValidatorPool - Undistributed;
}
