namespace Skein.Aggregation;

/// <summary>
/// Combines a round's client updates into the next global parameters. Implementations must be deterministic:
/// the same global vector and the same updates in the same order give the same bits.
/// </summary>
public interface IAggregationStrategy
{
    /// <summary>The name a task spec uses for this strategy.</summary>
    string Name { get; }

    /// <summary>Applies the aggregate of <paramref name="updates"/> to <paramref name="global"/> in place.</summary>
    void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates);
}
