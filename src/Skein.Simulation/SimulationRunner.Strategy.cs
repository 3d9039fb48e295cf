using Skein.Aggregation;
using Skein.Aggregation.Privacy;

namespace Skein.Simulation;

public sealed partial class SimulationRunner
{
    /// <summary>The first rule <paramref name="spec"/> breaks, naming the field, or null if the strategy can be built.</summary>
    public static string? StrategyError(StrategySpec spec, SimulationOptions options)
    {
        try
        {
            CreateStrategy(spec, options);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Builds the server strategy. Two names carry a client-side or accounting part the factory does not know:
    /// "fedprox" (FedAvg plus the proximal mu in every client's loss) and "dpfedavg" (whose expected_clients
    /// defaults to m = CK, and whose "delta" is the accountant's delta, default 1e-5).
    /// </summary>
    private static (IAggregationStrategy Strategy, double ProximalMu, double DpDelta) CreateStrategy(StrategySpec spec, SimulationOptions options)
    {
        if (string.Equals(spec.Name, "fedprox", StringComparison.Ordinal))
        {
            var mu = spec.Parameters.TryGetValue("mu", out var m) ? m : 0.01;
            if (!(mu >= 0) || double.IsInfinity(mu))
            {
                throw new ArgumentException($"strategy.parameters.mu: must be a finite number >= 0, got {mu}");
            }
            return (StrategyFactory.Create(new StrategySpec("fedavg", Without(spec.Parameters, "mu"))), mu, 0);
        }
        if (string.Equals(spec.Name, DpFedAvg.StrategyName, StringComparison.Ordinal))
        {
            var delta = spec.Parameters.TryGetValue("delta", out var d) ? d : 1e-5;
            if (!(delta > 0 && delta < 1))
            {
                throw new ArgumentException($"strategy.parameters.delta: must be in (0, 1), got {delta}");
            }
            var parameters = Without(spec.Parameters, "delta");
            parameters.TryAdd("expected_clients", options.ClientsPerRound);
            return (StrategyFactory.Create(new StrategySpec(spec.Name, parameters)), 0, delta);
        }
        return (StrategyFactory.Create(spec), 0, 0);
    }

    private static Dictionary<string, double> Without(IReadOnlyDictionary<string, double> parameters, string key) =>
        parameters.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
