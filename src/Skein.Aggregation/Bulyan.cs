using System.Runtime.InteropServices;

namespace Skein.Aggregation;

/// <summary>
/// Bulyan (El Mhamdi et al. 2018): selects θ = n - 2f deltas by iterated Krum, then in each coordinate averages
/// the β = θ - 2f selected values closest to their median. Tolerates f Byzantine updates when n >= 4f + 3.
/// </summary>
public sealed class Bulyan : IAggregationStrategy
{
    public const string StrategyName = "bulyan";

    public Bulyan(int f)
    {
        F = ParameterRule.ByzantineCount.CheckInteger(f, nameof(f));
    }

    public string Name => StrategyName;

    /// <summary>The number of Byzantine updates tolerated.</summary>
    public int F { get; }

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        var selected = Select(updates);
        CoordinateBlocks.AddReduced(global, updates, selected, new ClosestToMedianRule(selected.Length - (2 * F)));
    }

    /// <summary>
    /// The θ = n - 2f updates chosen by Krum, each pick removed before the next is scored on the rest, in
    /// ascending index order; inputs already checked.
    /// </summary>
    internal int[] Select(IReadOnlyList<ClientUpdate> updates)
    {
        var n = updates.Count;
        KrumScores.RequireEnough(Name, updates, F, 4);
        var scores = new KrumScores(updates);
        var remaining = new List<int>(CoordinateBlocks.All(n));
        var theta = n - (2 * F);
        var selected = new int[theta];
        for (var t = 0; t < theta; t++)
        {
            var best = scores.Best(CollectionsMarshal.AsSpan(remaining), F);
            remaining.Remove(best);
            selected[t] = best;
        }
        Array.Sort(selected);
        return selected;
    }

    /// <summary>The mean of the β values nearest the coordinate's median; equal distances go to the lower value.</summary>
    internal readonly struct ClosestToMedianRule(int beta) : ICoordinateRule
    {
        public double Reduce(Span<float> values)
        {
            var median = OrderStatistics.SortedMedian(values);
            // The nearest values to a point form a run of the sorted values; grow it outwards from the median,
            // one value at a time, from whichever side is nearer.
            var below = values.Length - 1;
            while (below >= 0 && values[below] > median)
            {
                below--;
            }
            var above = below + 1;
            var sum = 0.0;
            for (var taken = 0; taken < beta; taken++)
            {
                if (above >= values.Length || (below >= 0 && median - values[below] <= values[above] - median))
                {
                    sum += values[below--];
                }
                else
                {
                    sum += values[above++];
                }
            }
            return sum / beta;
        }
    }
}
