namespace Skein.Aggregation;

// TEMPORARY STUB: replaced by the strategies branch at merge time.
/// <summary>A strategy by name with its parameters.</summary>
public sealed record StrategySpec(string Name, IReadOnlyDictionary<string, double> Parameters);

/// <summary>Builds strategies from specs.</summary>
public static class StrategyFactory
{
    public static IReadOnlyList<string> Names { get; } = ["fedavg"];

    public static IAggregationStrategy Create(StrategySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Name == "fedavg" ? new FedAvg() : throw new ArgumentException($"strategy.name: unknown '{spec.Name}'");
    }
}
