using System.Globalization;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;

namespace Skein.Ledger.Governance;

/// <summary>One parameter a <c>parameter_change</c> proposal may set: its name, its allowed range, and where it lives in <see cref="LedgerParams"/>.</summary>
public sealed record GovernedParameter(string Name, UInt128 Min, UInt128 Max, string Meaning, Func<LedgerParams, UInt128> Read, Func<LedgerParams, UInt128, LedgerParams> Write)
{
    /// <summary>Null when <paramref name="value"/> is in range, else the refusal naming the parameter and the range.</summary>
    public string? Check(UInt128 value) =>
        value < Min || value > Max ? string.Create(CultureInfo.InvariantCulture, $"{Name}: must be in [{Min}, {Max}], got {value}") : null;
}

/// <summary>
/// The catalogue of governed parameters. A proposal is checked against a parameter's range, and against the rules
/// that tie parameters together (the supply cap), when it is made, so that a passed proposal always executes.
/// </summary>
public static class GovernedParameters
{
    private const uint Bps = GovernanceParams.Bps;

    public static IReadOnlyList<GovernedParameter> All { get; } =
    [
        Incentive("incentives.trainer_share_bps", 0, Bps, "share of a round's reward for trainers (basis points)",
            p => p.TrainerShareBps, (p, v) => p with { TrainerShareBps = (uint)v }),
        Incentive("incentives.supermajority_bps", (Bps / 2) + 1, Bps, "share of revealed stake whose reject votes reject an update",
            p => p.SupermajorityBps, (p, v) => p with { SupermajorityBps = (uint)v }),
        Incentive("incentives.agreement_tolerance", 1, LedgerParams.MaxScore, "score distance (ppm) at which a validator's agreement reaches 0",
            p => p.AgreementTolerance, (p, v) => p with { AgreementTolerance = (ulong)v }),
        Incentive("incentives.trainer_slash_bps", 0, Bps, "share of a rejected trainer's stake slashed",
            p => p.TrainerSlashBps, (p, v) => p with { TrainerSlashBps = (uint)v }),
        Incentive("incentives.validator_no_reveal_slash_bps", 0, Bps, "share of a validator's stake slashed when it commits but does not reveal",
            p => p.ValidatorNoRevealSlashBps, (p, v) => p with { ValidatorNoRevealSlashBps = (uint)v }),
        Incentive("incentives.emission_per_round", 0, UInt128.MaxValue >> 8, "base units minted into each settled round's reward before halvings",
            p => p.EmissionPerRound, (p, v) => p with { EmissionPerRound = v }),
        Incentive("incentives.halving_rounds", 1, ulong.MaxValue, "settled rounds between halvings of the emission",
            p => p.HalvingRounds, (p, v) => p with { HalvingRounds = (ulong)v }),
        new("unbonding_blocks", 1, 10_000_000, "blocks before unbonded stake returns to the balance",
            p => p.UnbondingBlocks, (p, v) => p with { UnbondingBlocks = (ulong)v }),
        Gov("governance.min_deposit", 1, UInt128.MaxValue >> 8, "base units a proposer locks",
            g => g.MinDeposit, (g, v) => g with { MinDeposit = v }),
        Gov("governance.voting_period_blocks", 1, 10_000_000, "blocks from a proposal's start to its tally",
            g => g.VotingPeriodBlocks, (g, v) => g with { VotingPeriodBlocks = (ulong)v }),
        Gov("governance.quorum_bps", 1, Bps, "share of voting power that must vote",
            g => g.QuorumBps, (g, v) => g with { QuorumBps = (uint)v }),
        Gov("governance.threshold_bps", Bps / 2, Bps - 1, "share of yes among yes, no and veto above which a proposal passes",
            g => g.ThresholdBps, (g, v) => g with { ThresholdBps = (uint)v }),
        Gov("governance.veto_bps", 1, Bps, "share of no-with-veto at which a proposal is vetoed",
            g => g.VetoBps, (g, v) => g with { VetoBps = (uint)v }),
        Gov("governance.task_approval", 0, 1, "1: new tasks open rounds only after a passed task_approval proposal",
            g => g.TaskApproval ? 1u : 0u, (g, v) => g with { TaskApproval = v == 1 }),
        Gov("governance.treasury_emission_bps", 0, Bps, "share of each round's emission minted to the treasury",
            g => g.TreasuryEmissionBps, (g, v) => g with { TreasuryEmissionBps = (uint)v }),
        Gov("governance.treasury_slash_bps", 0, Bps, "share of each slash paid to the treasury instead of burned",
            g => g.TreasurySlashBps, (g, v) => g with { TreasurySlashBps = (uint)v }),
        Gov("governance.max_supply", 1, UInt128.MaxValue, "the supply emission may never push the chain past",
            g => g.MaxSupply, (g, v) => g with { MaxSupply = v }),
        Live("liveness.training_blocks", "market blocks a round's training may last before anyone staked in the task may close it",
            l => l.TrainingBlocks, (l, v) => l with { TrainingBlocks = v }),
        Live("liveness.commit_blocks", "market blocks the commit phase may last before anyone staked in the task may close it",
            l => l.CommitBlocks, (l, v) => l with { CommitBlocks = v }),
        Live("liveness.reveal_blocks", "market blocks the reveal phase may last before anyone staked in the task may settle the round",
            l => l.RevealBlocks, (l, v) => l with { RevealBlocks = v }),
        Live("liveness.abandon_blocks", "market blocks without progress after which anyone may cancel a task",
            l => l.AbandonBlocks, (l, v) => l with { AbandonBlocks = v }),
    ];

    /// <summary>Whether <paramref name="parameter"/> is one of the liveness rules, which the state root covers only once a chain sets them.</summary>
    public static bool IsLiveness(GovernedParameter parameter) => parameter?.Name.StartsWith("liveness.", StringComparison.Ordinal) ?? false;

    public static GovernedParameter? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>
    /// Why setting <paramref name="name"/> to <paramref name="value"/> is refused, or null: an unknown name, a
    /// value out of range, or a schedule whose total emission could carry the supply past the cap.
    /// </summary>
    public static string? CheckChange(LedgerParams current, UInt128 supplyNow, string name, UInt128 value)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (Find(name) is not { } parameter)
        {
            return $"parameter: '{name}' is not governed (governed: {string.Join(", ", All.Select(p => p.Name))})";
        }
        if (parameter.Check(value) is { } range)
        {
            return range;
        }
        var next = parameter.Write(current, value);
        if (IsLiveness(parameter) && next.LivenessRules.Validate() is { } liveness)
        {
            return liveness;
        }
        var cap = next.GovernanceRules.MaxSupply;
        var emission = Emission.Cap(next.Incentives);
        if (emission > cap || supplyNow > cap - emission)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{name}: with {value}, emission could mint up to {Tokens.Format(emission)} more on a supply of {Tokens.Format(supplyNow)}, past governance.max_supply {Tokens.Format(cap)}");
        }
        return null;
    }

    private static GovernedParameter Incentive(string name, UInt128 min, UInt128 max, string meaning, Func<IncentiveParams, UInt128> read, Func<IncentiveParams, UInt128, IncentiveParams> write) =>
        new(name, min, max, meaning, p => read(p.Incentives), (p, v) => p with { Incentives = write(p.Incentives, v) });

    private static GovernedParameter Live(string name, string meaning, Func<LivenessParams, ulong> read, Func<LivenessParams, ulong, LivenessParams> write) =>
        new(name, 1, LivenessParams.MaxBlocks, meaning, p => read(p.LivenessRules), (p, v) => p with { Liveness = write(p.LivenessRules, (ulong)v) });

    private static GovernedParameter Gov(string name, UInt128 min, UInt128 max, string meaning, Func<GovernanceParams, UInt128> read, Func<GovernanceParams, UInt128, GovernanceParams> write) =>
        new(name, min, max, meaning, p => read(p.GovernanceRules), (p, v) => p with { Governance = write(p.GovernanceRules, v) });
}
