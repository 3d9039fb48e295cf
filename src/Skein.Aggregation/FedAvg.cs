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
        RoundInput.Check(Name, global, updates);
        var accumulator = new WeightedSumAccumulator(global.Length);
        foreach (var u in updates)
        {
            accumulator.Add(u.Delta.Span, u.SampleCount);
        }
        accumulator.AddMeanTo(global);
    }
}
