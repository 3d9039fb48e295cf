using System.Globalization;

namespace Skein.Ledger.Incentives;

/// <summary>A validator's revealed scores for a round: one ppm score per update in submission order, weighted by its role stake.</summary>
/// <param name="Validator">The validator's address.</param>
/// <param name="Weight">The validator's role stake: its own plus delegated, in base units.</param>
/// <param name="Scores">Parts per million (0..1,000,000), one per update in submission order.</param>
public sealed record ValidatorReveal(Address Validator, UInt128 Weight, IReadOnlyList<ulong> Scores);

/// <summary>An update submitted in a round: who trained it and on how many samples (the trainer's claim).</summary>
public sealed record UpdateInfo(Address Trainer, ulong Samples);

/// <summary>Everything the settlement of one round depends on; <see cref="RoundSettlement.Compute"/> is a pure function of it.</summary>
/// <param name="Updates">The round's updates in submission order.</param>
/// <param name="Revealed">Validators that revealed valid scores (one score per update).</param>
/// <param name="Unrevealed">Validators that committed but did not reveal.</param>
/// <param name="RoundReward">This round's share of the escrowed pool plus this round's emission, in base units.</param>
/// <param name="RejectBelow">A score below this is a vote to reject the update.</param>
/// <param name="Params">The incentive parameters.</param>
public sealed record SettlementInput(
    IReadOnlyList<UpdateInfo> Updates,
    IReadOnlyList<ValidatorReveal> Revealed,
    IReadOnlyList<Address> Unrevealed,
    UInt128 RoundReward,
    ulong RejectBelow,
    IncentiveParams Params)
{
    /// <summary>The largest score: 1,000,000 parts per million.</summary>
    public const ulong MaxScore = 1_000_000;

    /// <summary>
    /// The part of <see cref="RoundReward"/> that is this round's emission, not yet minted (0 if the caller does not
    /// split it out). With it, <see cref="SettlementResult.Minted"/> says how much to mint: emission is minted only as far
    /// as it is paid out, so that a round that pays nobody cannot turn emission into escrow refunds.
    /// </summary>
    public UInt128 EmissionPart { get; init; }

    /// <summary>Null when the input can be settled, else the first problem, naming the field.</summary>
    public string? Validate()
    {
        if (Params is null)
        {
            return "params: missing";
        }
        if (Params.Validate() is { } paramsError)
        {
            return paramsError;
        }
        if (Updates is null || Revealed is null || Unrevealed is null)
        {
            return $"{(Updates is null ? "updates" : Revealed is null ? "revealed" : "unrevealed")}: missing";
        }
        if (EmissionPart > RoundReward)
        {
            return Invariant($"emission_part: must be <= round_reward ({RoundReward}), got {EmissionPart}");
        }
        var seen = new HashSet<Address>();
        var totalWeight = UInt128.Zero;
        for (var i = 0; i < Revealed.Count; i++)
        {
            var reveal = Revealed[i];
            if (reveal?.Scores is null)
            {
                return Invariant($"revealed[{i}]: missing scores");
            }
            if (!seen.Add(reveal.Validator))
            {
                return Invariant($"revealed[{i}].validator: {reveal.Validator} appears more than once");
            }
            if (reveal.Scores.Count != Updates.Count)
            {
                return Invariant($"revealed[{i}].scores: has {reveal.Scores.Count} scores, expected {Updates.Count} (one per update)");
            }
            for (var j = 0; j < reveal.Scores.Count; j++)
            {
                if (reveal.Scores[j] > MaxScore)
                {
                    return Invariant($"revealed[{i}].scores[{j}]: must be <= {MaxScore}, got {reveal.Scores[j]}");
                }
            }
            // Weights are stakes, and all stake fits in the supply; a sum past 128 bits is a caller's bug.
            if (reveal.Weight > UInt128.MaxValue - totalWeight)
            {
                return Invariant($"revealed[{i}].weight: the total revealed weight exceeds 2^128-1");
            }
            totalWeight += reveal.Weight;
        }
        for (var i = 0; i < Unrevealed.Count; i++)
        {
            if (!seen.Add(Unrevealed[i]))
            {
                return Invariant($"unrevealed[{i}]: {Unrevealed[i]} appears more than once or also revealed");
            }
        }
        for (var i = 0; i < Updates.Count; i++)
        {
            if (Updates[i] is null)
            {
                return Invariant($"updates[{i}]: missing");
            }
        }
        return null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
