namespace Skein.Aggregation;

/// <summary>
/// Coordinate-wise median of the deltas (Yin et al. 2018), unweighted; for an even number of updates the mean of
/// the two middle values. Tolerates fewer than half of the updates being arbitrary in any one coordinate.
/// </summary>
public sealed class CoordinateMedian : IAggregationStrategy
{
    public const string StrategyName = "median";

    public string Name => StrategyName;

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        CoordinateBlocks.AddReduced(global, updates, CoordinateBlocks.All(updates.Count), new MedianRule());
    }

    private readonly struct MedianRule : ICoordinateRule
    {
        public double Reduce(Span<float> values)
        {
            return OrderStatistics.SortedMedian(values);
        }
    }
}
