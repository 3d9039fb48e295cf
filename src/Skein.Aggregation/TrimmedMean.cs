namespace Skein.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al. 2018): in each coordinate, drop the floor(beta·n) largest and the
/// floor(beta·n) smallest values and average the rest, unweighted.
/// </summary>
public sealed class TrimmedMean : IAggregationStrategy
{
    public const string StrategyName = "trimmed_mean";

    /// <summary>The default trimmed fraction per side, as in Flower's FedTrimmedAvg.</summary>
    public const double DefaultBeta = 0.2;

    public TrimmedMean(double beta = DefaultBeta)
    {
        Beta = ParameterRule.TrimFraction.Check(beta, nameof(beta));
    }

    public string Name => StrategyName;

    /// <summary>The fraction trimmed from each side, in [0, 0.5).</summary>
    public double Beta { get; }

    /// <summary>How many values are dropped from each side of a coordinate when there are <paramref name="n"/> updates.</summary>
    public int TrimCount(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        // Betas are written as decimal fractions, which doubles hold only approximately (0.29 * 100 is
        // 28.999999999999996); the tolerance makes floor(beta * n) mean what the spec's author wrote.
        var k = (int)Math.Floor((Beta * n) + 1e-9);
        return Math.Min(k, (n - 1) / 2);
    }

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        var n = updates.Count;
        CoordinateBlocks.AddReduced(global, updates, CoordinateBlocks.All(n), new TrimRule(TrimCount(n)));
    }

    private readonly struct TrimRule(int trim) : ICoordinateRule
    {
        public double Reduce(Span<float> values)
        {
            return OrderStatistics.SortedMean(values, trim, values.Length - (2 * trim));
        }
    }
}
