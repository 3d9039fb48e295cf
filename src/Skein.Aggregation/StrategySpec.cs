using System.Collections.ObjectModel;

namespace Skein.Aggregation;

/// <summary>
/// A strategy as a task spec names it: one of <see cref="StrategyFactory.Names"/> and its numeric parameters,
/// keyed in snake_case (e.g. <c>server_lr</c>, <c>beta1</c>, <c>f</c>, <c>clip_norm</c>).
/// </summary>
public sealed record StrategySpec(string Name, IReadOnlyDictionary<string, double> Parameters)
{
    /// <summary>A strategy with all parameters at their defaults.</summary>
    public StrategySpec(string name)
        : this(name, ReadOnlyDictionary<string, double>.Empty)
    {
    }
}
