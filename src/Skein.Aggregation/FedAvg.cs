namespace Skein.Aggregation;

/// <summary>
/// Federated averaging (McMahan et al. 2017): the new global parameters are the old ones plus the mean of the
/// client deltas weighted by their sample counts.
/// </summary>
public sealed class FedAvg : IAggregationStrategy
{
    public string Name => "fedavg";

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(updates);
        if (updates.Count == 0)
        {
            throw new ArgumentException("FedAvg needs at least one update", nameof(updates));
        }
        BlockedWeightedSum.AddWeightedMeanTo(global, updates);
    }
}
