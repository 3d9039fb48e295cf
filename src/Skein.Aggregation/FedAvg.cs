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
        var accumulator = new WeightedSumAccumulator(global.Length);
        for (var i = 0; i < updates.Count; i++)
        {
            var u = updates[i];
            if (u.SampleCount <= 0)
            {
                throw new ArgumentException($"update {i}: sample count must be > 0, got {u.SampleCount}", nameof(updates));
            }
            accumulator.Add(u.Delta.Span, u.SampleCount);
        }
        accumulator.AddMeanTo(global);
    }
}
