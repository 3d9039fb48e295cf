using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Krum (Blanchard et al. 2017): applies the single delta whose summed squared distance to its n - f - 2
/// nearest neighbours is smallest, tolerating f Byzantine updates when n >= 2f + 3.
/// </summary>
public sealed class Krum : IAggregationStrategy
{
    public const string StrategyName = "krum";

    public Krum(int f)
    {
        F = ParameterRule.ByzantineCount.CheckInteger(f, nameof(f));
    }

    public string Name => StrategyName;

    /// <summary>The number of Byzantine updates tolerated.</summary>
    public int F { get; }

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        var chosen = Select(updates);
        TensorPrimitives.Add(global, updates[chosen].Delta.Span, global);
    }

    /// <summary>The index of the update Krum applies (ties go to the lowest index); inputs already checked.</summary>
    internal int Select(IReadOnlyList<ClientUpdate> updates)
    {
        KrumScores.RequireEnough(Name, updates, F, 2);
        return new KrumScores(updates).Best(CoordinateBlocks.All(updates.Count), F);
    }
}
