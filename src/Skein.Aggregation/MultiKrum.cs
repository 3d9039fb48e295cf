namespace Skein.Aggregation;

/// <summary>
/// Multi-Krum (Blanchard et al. 2017): scores every delta as Krum does and applies the unweighted mean of the m
/// lowest-scoring ones (m = n - f unless set), tolerating f Byzantine updates when n >= 2f + 3.
/// </summary>
public sealed class MultiKrum : IAggregationStrategy
{
    public const string StrategyName = "multikrum";

    /// <param name="f">The number of Byzantine updates tolerated.</param>
    /// <param name="m">How many updates to average; null means n - f for a round of n updates.</param>
    public MultiKrum(int f, int? m = null)
    {
        F = ParameterRule.ByzantineCount.CheckInteger(f, nameof(f));
        M = m is { } value ? ParameterRule.PositiveCount.CheckInteger(value, nameof(m)) : null;
    }

    public string Name => StrategyName;

    public int F { get; }

    public int? M { get; }

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        var selected = Select(updates);
        // Unweighted, as in the paper: sample counts are the client's own claim, and a Byzantine client could
        // inflate its count to dominate the mean.
        var sum = new WeightedSumAccumulator(global.Length);
        foreach (var i in selected)
        {
            sum.Add(updates[i].Delta.Span, 1.0);
        }
        sum.AddMeanTo(global);
    }

    /// <summary>The indices of the m lowest-scoring updates in ascending index order; inputs already checked.</summary>
    internal int[] Select(IReadOnlyList<ClientUpdate> updates)
    {
        var n = updates.Count;
        KrumScores.RequireEnough(Name, updates, F, 2);
        var m = M ?? (n - F);
        if (m > n)
        {
            throw new ArgumentException($"{Name}: m = {m} is more than the {n} updates in the round", nameof(updates));
        }
        var scores = new KrumScores(updates);
        var all = CoordinateBlocks.All(n);
        var neighbours = KrumScores.NeighbourCount(n, F);
        var score = new double[n];
        for (var i = 0; i < n; i++)
        {
            score[i] = scores.Score(i, all, neighbours);
        }
        // Repeatedly take the lowest (score, index) not yet taken: a total order, so ties cannot depend on a sort.
        var taken = new bool[n];
        var selected = new int[m];
        for (var t = 0; t < m; t++)
        {
            var best = -1;
            for (var i = 0; i < n; i++)
            {
                if (!taken[i] && (best < 0 || score[i] < score[best]))
                {
                    best = i;
                }
            }
            taken[best] = true;
            selected[t] = best;
        }
        Array.Sort(selected);
        return selected;
    }
}
