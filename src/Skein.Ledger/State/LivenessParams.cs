using System.Globalization;

namespace Skein.Ledger.State;

/// <summary>
/// How long no coordinator can hold a task hostage, in market blocks (the ledger's clock: whole block intervals of
/// ledger time, as leases pay): each phase of a round may last this long before anyone staked in the task may close
/// it, and a task that makes no progress for <paramref name="AbandonBlocks"/> may be cancelled by anyone.
/// </summary>
/// <param name="TrainingBlocks">From a round's opening to the deadline of its training phase.</param>
/// <param name="CommitBlocks">From the end of training to the deadline of the commit phase.</param>
/// <param name="RevealBlocks">From the end of commits to the deadline of the reveal phase (then anyone may settle it).</param>
/// <param name="AbandonBlocks">Blocks without a phase change (or, before its first round, since its creation) after which anyone may cancel a task.</param>
public sealed record LivenessParams(ulong TrainingBlocks, ulong CommitBlocks, ulong RevealBlocks, ulong AbandonBlocks)
{
    /// <summary>At 6 s blocks: an hour to train, ten minutes each to commit and reveal, a day of silence before a task may be cancelled.</summary>
    public static LivenessParams Default { get; } = new(600, 100, 100, 14_400);

    public const ulong MaxBlocks = 10_000_000;

    /// <summary>Null when usable, else the first problem naming the field.</summary>
    public string? Validate()
    {
        foreach (var (field, value) in new[] { ("training_blocks", TrainingBlocks), ("commit_blocks", CommitBlocks), ("reveal_blocks", RevealBlocks), ("abandon_blocks", AbandonBlocks) })
        {
            if (value is 0 or > MaxBlocks)
            {
                return string.Create(CultureInfo.InvariantCulture, $"params.liveness.{field}: must be in [1, {MaxBlocks}], got {value}");
            }
        }
        // A task whose open phase may legitimately outlast the abandonment period could be cancelled while it works.
        var longest = Math.Max(TrainingBlocks, Math.Max(CommitBlocks, RevealBlocks));
        return AbandonBlocks <= longest
            ? string.Create(CultureInfo.InvariantCulture, $"params.liveness.abandon_blocks: must exceed every phase's blocks (the longest is {longest}), got {AbandonBlocks}")
            : null;
    }

    /// <summary>The blocks a phase may last before anyone staked may close it.</summary>
    public ulong BlocksOf(RoundPhase phase) => phase switch
    {
        RoundPhase.Training => TrainingBlocks,
        RoundPhase.Committing => CommitBlocks,
        RoundPhase.Revealing => RevealBlocks,
        _ => 0,
    };
}
