using System.Globalization;

namespace Skein.Ledger.Incentives;

/// <summary>The network's incentive parameters: reward split, rejection threshold, agreement clipping, slashes and emission.</summary>
/// <param name="TrainerShareBps">Share of a round's reward for trainers, in basis points; validators get the rest.</param>
/// <param name="SupermajorityBps">Share of the revealed stake whose reject votes reject an update, in basis points.</param>
/// <param name="AgreementTolerance">Score distance (ppm) from consensus at which a validator's agreement on an update reaches 0.</param>
/// <param name="TrainerSlashBps">Share of a rejected trainer's role stake that is slashed (burned), in basis points.</param>
/// <param name="ValidatorNoRevealSlashBps">Share of a validator's role stake slashed when it committed but did not reveal.</param>
/// <param name="EmissionPerRound">Newly minted base units added to each settled round's reward, before halvings.</param>
/// <param name="HalvingRounds">Emission halves every this many settled rounds, network-wide.</param>
public sealed record IncentiveParams(
    uint TrainerShareBps,
    uint SupermajorityBps,
    ulong AgreementTolerance,
    uint TrainerSlashBps,
    uint ValidatorNoRevealSlashBps,
    UInt128 EmissionPerRound,
    ulong HalvingRounds)
{
    /// <summary>10000 basis points: the whole.</summary>
    public const uint BpsDenominator = 10_000;

    /// <summary>The defaults: 70% to trainers, two-thirds supermajority, tolerance 2% of the score range, 10% and 5% slashes, 10 tokens a round halving every 1000 rounds.</summary>
    public static IncentiveParams Default { get; } = new(
        TrainerShareBps: 7_000,
        SupermajorityBps: 6_667,
        AgreementTolerance: 20_000,
        TrainerSlashBps: 1_000,
        ValidatorNoRevealSlashBps: 500,
        EmissionPerRound: Tokens.Whole(10),
        HalvingRounds: 1_000);

    /// <summary>Null when the parameters are usable, else the first problem, naming the field.</summary>
    public string? Validate()
    {
        if (TrainerShareBps > BpsDenominator)
        {
            return Bad("trainer_share_bps", $"must be <= {BpsDenominator}", TrainerShareBps);
        }
        // At or below one half, a minority of the stake could reject (and so slash) an update the majority accepts.
        if (SupermajorityBps <= BpsDenominator / 2 || SupermajorityBps > BpsDenominator)
        {
            return Bad("supermajority_bps", $"must be in {(BpsDenominator / 2) + 1}..{BpsDenominator}", SupermajorityBps);
        }
        // The agreement formula divides by the tolerance.
        if (AgreementTolerance == 0)
        {
            return Bad("agreement_tolerance", "must be >= 1", AgreementTolerance);
        }
        if (TrainerSlashBps > BpsDenominator)
        {
            return Bad("trainer_slash_bps", $"must be <= {BpsDenominator}", TrainerSlashBps);
        }
        if (ValidatorNoRevealSlashBps > BpsDenominator)
        {
            return Bad("validator_no_reveal_slash_bps", $"must be <= {BpsDenominator}", ValidatorNoRevealSlashBps);
        }
        // The schedule divides by it; a network that never halves sets it to ulong.MaxValue.
        if (HalvingRounds == 0)
        {
            return Bad("halving_rounds", "must be >= 1", HalvingRounds);
        }
        return null;
    }

    private static string Bad(string field, string rule, ulong got) =>
        string.Create(CultureInfo.InvariantCulture, $"params.{field}: {rule}, got {got}");
}
