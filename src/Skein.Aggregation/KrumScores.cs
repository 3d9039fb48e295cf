namespace Skein.Aggregation;

/// <summary>
/// The pairwise squared distances of a round's deltas (computed once, O(n²·P)) and Krum scores over any subset
/// of them, shared by Krum, Multi-Krum and Bulyan's iterated selection.
/// </summary>
internal sealed class KrumScores
{
    private readonly double[] _distances;
    private readonly double[] _scratch;

    public KrumScores(IReadOnlyList<ClientUpdate> updates)
    {
        var n = updates.Count;
        Count = n;
        _distances = new double[n * n];
        _scratch = new double[n];
        for (var i = 0; i < n; i++)
        {
            var xi = updates[i].Delta.Span;
            for (var j = i + 1; j < n; j++)
            {
                var d = FixedOrderSum.SquaredDistance(xi, updates[j].Delta.Span);
                _distances[(i * n) + j] = d;
                _distances[(j * n) + i] = d;
            }
        }
    }

    public int Count { get; }

    public double Distance(int i, int j) => _distances[(i * Count) + j];

    /// <summary>
    /// The sum of the <paramref name="neighbours"/> smallest squared distances from <paramref name="candidate"/>
    /// to the other members of <paramref name="members"/>, added in ascending order.
    /// </summary>
    public double Score(int candidate, ReadOnlySpan<int> members, int neighbours)
    {
        var count = 0;
        foreach (var j in members)
        {
            if (j != candidate)
            {
                _scratch[count++] = Distance(candidate, j);
            }
        }
        var others = _scratch.AsSpan(0, count);
        others.Sort();
        var sum = 0.0;
        foreach (var d in others[..Math.Min(neighbours, count)])
        {
            sum += d;
        }
        return sum;
    }

    /// <summary>
    /// The member with the lowest score, ties going to the lowest index. Scores count the r - f - 2 nearest
    /// neighbours of each of the r members, at least one (and none when r is 1).
    /// </summary>
    public int Best(ReadOnlySpan<int> members, int f)
    {
        var neighbours = NeighbourCount(members.Length, f);
        var best = -1;
        var bestScore = double.PositiveInfinity;
        foreach (var i in members)
        {
            var score = Score(i, members, neighbours);
            if (best < 0 || score < bestScore || (score == bestScore && i < best))
            {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    // Krum proper has r >= 2f + 3 so r - f - 2 >= f + 1; Bulyan's later picks run on fewer members than that
    // and, like Flower, fall back to the single nearest neighbour.
    public static int NeighbourCount(int members, int f) => Math.Min(Math.Max(1, members - f - 2), members - 1);

    /// <summary>Refuses rounds too small for f Byzantine updates: n must be at least factor·f + 3.</summary>
    public static void RequireEnough(string strategy, IReadOnlyList<ClientUpdate> updates, int f, int factor)
    {
        var n = updates.Count;
        var needed = ((long)factor * f) + 3;
        if (n < needed)
        {
            throw new ArgumentException(
                $"{strategy}: f = {f} needs at least {factor}f+3 = {needed} updates, got {n}", nameof(updates));
        }
    }
}
