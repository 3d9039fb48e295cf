namespace Skein.Aggregation;

/// <summary>
/// What a strategy may know about the round besides the updates: its number and the task's seed, from which any
/// randomness (such as differential-privacy noise) must be derived so that anyone can recompute the round.
/// </summary>
public readonly record struct AggregationContext(long Round, ulong Seed);

/// <summary>
/// Combines a round's client updates into the next global parameters. Implementations must be deterministic:
/// the same global vector, the same updates in the same order and the same context give the same bits.
/// Strategies with server state (momentum, adaptive moments) keep it in the instance across rounds.
/// </summary>
public interface IAggregationStrategy
{
    /// <summary>The name a task spec uses for this strategy.</summary>
    string Name { get; }

    /// <summary>Applies the aggregate of <paramref name="updates"/> to <paramref name="global"/> in place.</summary>
    void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context);
}
