using System.Collections.Immutable;
using System.Globalization;

namespace Skein.Ledger.Incentives;

/// <summary>The fixed limits and constants of tournament tasks.</summary>
public static class TournamentLimits
{
    /// <summary>The most submissions a tournament may allow one trainer in one window.</summary>
    public const uint MaxSubmissionsPerTrainer = 16;

    /// <summary>A tournament picks every joined trainer; this is the round protocol's cap on picks.</summary>
    public const uint MaxTrainers = 10_000;

    /// <summary>
    /// The score (parts per million) of a submission exactly as good as the window's starting model. Validators score
    /// 500,000 + 1,000,000 x (base BPC - submission BPC) / base BPC, clipped to 0..1,000,000; a consensus at or below
    /// this made the base no better and earns nothing.
    /// </summary>
    public const ulong NeutralScore = 500_000;
}

/// <summary>
/// Settles one window of a tournament task: the same consensus, rejection, validator agreement and slashes as a
/// federated round (<see cref="RoundSettlement"/>), but the reward is split between the sides by their stakes (each
/// side at least the floor) and the trainers' side is paid by rank (<see cref="RankSettlement"/>). Only a trainer's
/// best submission of the window ranks, and only if its consensus beats <see cref="TournamentLimits.NeutralScore"/>.
/// </summary>
public static class TournamentSettlement
{
    /// <param name="input">The window's submissions, reveals and reward, as for a federated round.</param>
    /// <param name="rules">The tournament's rules from the ledger.</param>
    /// <param name="trainerStakes">Each submission's trainer's role stake (own plus delegated), in submission order.</param>
    /// <param name="copies">
    /// Per submission, whether it is an exact copy (<see cref="ExactCopies"/>): it ranks nowhere and its trainer is slashed
    /// whatever the scores; null: none.
    /// </param>
    public static SettlementResult Compute(SettlementInput input, TournamentRules rules, IReadOnlyList<UInt128> trainerStakes, IReadOnlyList<bool>? copies = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(trainerStakes);
        if (input.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(input));
        }
        if (trainerStakes.Count != input.Updates.Count)
        {
            throw new ArgumentException(Invariant($"trainer_stakes: has {trainerStakes.Count} stakes, expected {input.Updates.Count} (one per submission)"), nameof(trainerStakes));
        }
        if (rules.SideFloorBps > IncentiveParams.BpsDenominator / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(rules), rules.SideFloorBps, Invariant($"side_floor_bps: must be <= {IncentiveParams.BpsDenominator / 2}, got {rules.SideFloorBps}"));
        }

        if (copies is not null && copies.Count != input.Updates.Count)
        {
            throw new ArgumentException(Invariant($"copies: has {copies.Count} flags, expected {input.Updates.Count} (one per submission)"), nameof(copies));
        }
        bool Copy(int u) => copies is not null && copies[u];

        // Verdicts and agreement do not depend on the reward or the split: settle once for them. A copy is rejected whatever its scores.
        var verdicts = RoundSettlement.Compute(input with { RoundReward = 0, EmissionPart = 0 }).Verdicts
            .Select((v, u) => Copy(u) ? v with { Accepted = false, Rejected = true } : v).ToArray();
        var eligible = Eligible(input.Updates, verdicts);

        var trainerStake = UInt128.Zero;
        var counted = new HashSet<Address>();
        for (var u = 0; u < eligible.Length; u++)
        {
            if (eligible[u] && counted.Add(input.Updates[u].Trainer))
            {
                trainerStake += trainerStakes[u];
            }
        }
        var validatorStake = UInt128.Zero;
        foreach (var r in input.Revealed)
        {
            validatorStake += r.Weight;
        }
        var share = TrainerShareBps(trainerStake, validatorStake, rules.SideFloorBps);

        // The validators' side exactly as in a federated round, with this window's split.
        var settled = RoundSettlement.Compute(input with { Params = input.Params with { TrainerShareBps = share } });
        var ranked = new RankedSubmission[input.Updates.Count];
        for (var u = 0; u < ranked.Length; u++)
        {
            ranked[u] = new RankedSubmission(input.Updates[u].Trainer, trainerStakes[u], verdicts[u].ConsensusScore, eligible[u]);
        }
        var payout = RankSettlement.Compute(settled.TrainerPool, rules.DecayBps, ranked);

        var trainerRewards = new SortedDictionary<Address, UInt128>();
        var paid = UInt128.Zero;
        var outVerdicts = new UpdateVerdict[ranked.Length];
        for (var u = 0; u < ranked.Length; u++)
        {
            var amount = payout.Amounts[u];
            if (amount > 0)
            {
                trainerRewards[input.Updates[u].Trainer] = trainerRewards.GetValueOrDefault(input.Updates[u].Trainer) + amount;
                paid += amount;
            }
            outVerdicts[u] = verdicts[u] with { Accepted = eligible[u], Reward = amount };
        }
        foreach (var amount in settled.ValidatorRewards.Values)
        {
            paid += amount;
        }
        var undistributed = input.RoundReward - paid;
        var minted = UInt128.Min(input.EmissionPart, paid);
        var copiers = Enumerable.Range(0, ranked.Length).Where(Copy).Select(u => input.Updates[u].Trainer).Distinct().ToArray();
        return new SettlementResult(
            outVerdicts,
            trainerRewards.ToImmutableSortedDictionary(),
            settled.ValidatorRewards,
            settled.AgreementBps,
            settled.SlashedTrainers.Where(t => !copiers.Contains(t)).ToArray(),
            settled.SlashedValidators,
            undistributed)
        {
            Copiers = copiers,
            TrainerPool = settled.TrainerPool,
            ValidatorPool = settled.ValidatorPool,
            Minted = minted,
            ReturnedToEscrow = undistributed - (input.EmissionPart - minted),
        };
    }

    /// <summary>
    /// The trainers' share in basis points: floor(10000 x S_t / (S_t + S_v)) with S_t the stake of the trainers with a
    /// ranked submission and S_v the revealed validators' stake, then clamped to [floor, 10000 - floor].
    /// </summary>
    public static uint TrainerShareBps(UInt128 trainerStake, UInt128 validatorStake, uint sideFloorBps)
    {
        var total = (System.Numerics.BigInteger)trainerStake + validatorStake;
        var share = total.IsZero ? IncentiveParams.BpsDenominator / 2 : (uint)((System.Numerics.BigInteger)trainerStake * IncentiveParams.BpsDenominator / total);
        return Math.Clamp(share, sideFloorBps, IncentiveParams.BpsDenominator - sideFloorBps);
    }

    /// <summary>
    /// Per submission of a window, whether its update hash equals that of an earlier submission of another trainer in the
    /// task: in an earlier window (<paramref name="earlier"/>, in ledger order) or earlier in this one.
    /// </summary>
    public static bool[] ExactCopies(IReadOnlyList<(Address Trainer, Hash32 Update)> earlier, IReadOnlyList<(Address Trainer, Hash32 Update)> window)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(window);
        // The first submitter of each hash is its author; a later one by anyone else copied it.
        var authors = new Dictionary<Hash32, Address>();
        foreach (var (trainer, update) in earlier)
        {
            authors.TryAdd(update, trainer);
        }
        var copies = new bool[window.Count];
        for (var u = 0; u < window.Count; u++)
        {
            var (trainer, update) = window[u];
            if (!authors.TryAdd(update, trainer))
            {
                copies[u] = authors[update] != trainer;
            }
        }
        return copies;
    }

    /// <summary>
    /// Which submissions rank: accepted (not rejected, consensus above 0), better than the starting model (consensus
    /// above <see cref="TournamentLimits.NeutralScore"/>), and its trainer's best of the window (the earliest among equals).
    /// </summary>
    public static bool[] Eligible(IReadOnlyList<UpdateInfo> updates, IReadOnlyList<UpdateVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(verdicts);
        var eligible = new bool[updates.Count];
        var best = new Dictionary<Address, int>();
        for (var u = 0; u < updates.Count; u++)
        {
            if (!verdicts[u].Accepted || verdicts[u].ConsensusScore <= TournamentLimits.NeutralScore)
            {
                continue;
            }
            if (!best.TryGetValue(updates[u].Trainer, out var b) || verdicts[u].ConsensusScore > verdicts[b].ConsensusScore)
            {
                best[updates[u].Trainer] = u;
            }
        }
        foreach (var u in best.Values)
        {
            eligible[u] = true;
        }
        return eligible;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
