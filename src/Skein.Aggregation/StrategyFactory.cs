using System.Collections.Frozen;
using Skein.Aggregation.Privacy;

namespace Skein.Aggregation;

/// <summary>
/// Builds strategies from <see cref="StrategySpec"/>s, refusing unknown names, unknown parameters and values out of
/// range with an <see cref="ArgumentException"/> that names the spec field, e.g.
/// <c>strategy.parameters.beta: must be in [0, 0.5), got 0.7</c>.
/// </summary>
public static class StrategyFactory
{
    /// <summary>The optional parameter, accepted by every strategy, that wraps it in <see cref="NormClipping"/>.</summary>
    public const string ClipNormParameter = "clip_norm";

    private const string NamePath = "strategy.name";
    private const string ParametersPath = "strategy.parameters";

    private static readonly Entry[] Registry =
    [
        new("fedavg", [], _ => new FedAvg()),
        new(FedAvgM.StrategyName, ["server_lr", "momentum"], p => new FedAvgM(
            p.Real("server_lr", FedAvgM.DefaultServerLearningRate, ParameterRule.Positive),
            p.Real("momentum", FedAvgM.DefaultMomentum, ParameterRule.UnitInterval))),
        new(FedAdagrad.StrategyName, ["server_lr", "beta1", "tau"], p => new FedAdagrad(
            p.Real("server_lr", FedAdagrad.DefaultEta, ParameterRule.Positive),
            p.Real("beta1", FedAdagrad.DefaultBeta1, ParameterRule.UnitInterval),
            p.Real("tau", FedAdagrad.DefaultTau, ParameterRule.Positive))),
        new(FedAdam.StrategyName, ["server_lr", "beta1", "beta2", "tau"], p => new FedAdam(
            p.Real("server_lr", FedAdam.DefaultEta, ParameterRule.Positive),
            p.Real("beta1", FedAdam.DefaultBeta1, ParameterRule.UnitInterval),
            p.Real("beta2", FedAdam.DefaultBeta2, ParameterRule.UnitInterval),
            p.Real("tau", FedAdam.DefaultTau, ParameterRule.Positive))),
        new(FedYogi.StrategyName, ["server_lr", "beta1", "beta2", "tau"], p => new FedYogi(
            p.Real("server_lr", FedYogi.DefaultEta, ParameterRule.Positive),
            p.Real("beta1", FedYogi.DefaultBeta1, ParameterRule.UnitInterval),
            p.Real("beta2", FedYogi.DefaultBeta2, ParameterRule.UnitInterval),
            p.Real("tau", FedYogi.DefaultTau, ParameterRule.Positive))),
        new(CoordinateMedian.StrategyName, [], _ => new CoordinateMedian()),
        new(TrimmedMean.StrategyName, ["beta"], p => new TrimmedMean(
            p.Real("beta", TrimmedMean.DefaultBeta, ParameterRule.TrimFraction))),
        // f has no default: how many Byzantine clients to tolerate is the task author's decision.
        new(Krum.StrategyName, ["f"], p => new Krum(p.RequiredInteger("f", ParameterRule.ByzantineCount))),
        new(MultiKrum.StrategyName, ["f", "m"], p => new MultiKrum(
            p.RequiredInteger("f", ParameterRule.ByzantineCount),
            p.OptionalInteger("m", ParameterRule.PositiveCount))),
        new(Bulyan.StrategyName, ["f"], p => new Bulyan(p.RequiredInteger("f", ParameterRule.ByzantineCount))),

        // DP-FedAvg: clip is its own per-update bound S (part of the privacy guarantee), not the generic clip_norm.
        // expected_clients is m = qK; a simulation fills it in from K and C when the spec leaves it out.
        new(DpFedAvg.StrategyName, ["clip", "noise_multiplier", "expected_clients", "server_lr"], p => new DpFedAvg(
            p.RequiredReal("clip", ParameterRule.Positive),
            p.RequiredReal("noise_multiplier", ParameterRule.NonNegative),
            p.RequiredReal("expected_clients", ParameterRule.Positive),
            p.Real("server_lr", 1.0, ParameterRule.Positive))),
    ];

    private static readonly FrozenDictionary<string, Entry> ByName = Registry.ToFrozenDictionary(e => e.Name, StringComparer.Ordinal);

    /// <summary>The strategy names a spec may use, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Registry.Select(e => e.Name).ToArray());

    /// <summary>The parameter names <paramref name="name"/> accepts, <c>clip_norm</c> included.</summary>
    public static IReadOnlyList<string> ParametersOf(string name) =>
        ByName.TryGetValue(name, out var entry)
            ? Array.AsReadOnly([.. entry.Parameters, ClipNormParameter])
            : throw UnknownName(name, nameof(name));

    public static IAggregationStrategy Create(StrategySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Name is null || !ByName.TryGetValue(spec.Name, out var entry))
        {
            throw UnknownName(spec.Name, nameof(spec));
        }
        var parameters = spec.Parameters ?? FrozenDictionary<string, double>.Empty;
        // Sorted so that a spec with several bad keys always reports the same one.
        foreach (var key in parameters.Keys.Order(StringComparer.Ordinal))
        {
            if (key != ClipNormParameter && Array.IndexOf(entry.Parameters, key) < 0)
            {
                throw new ArgumentException(
                    $"{ParametersPath}.{key}: unknown parameter for '{entry.Name}'; it takes {string.Join(", ", ParametersOf(entry.Name))}",
                    nameof(spec));
            }
        }
        var reader = new SpecReader(entry.Name, parameters, nameof(spec));
        var strategy = entry.Build(reader);
        return parameters.ContainsKey(ClipNormParameter)
            ? new NormClipping(strategy, reader.Real(ClipNormParameter, double.NaN, ParameterRule.Positive))
            : strategy;
    }

    private static ArgumentException UnknownName(string? name, string paramName) =>
        new($"{NamePath}: unknown strategy '{name}'; valid names are {string.Join(", ", Names)}", paramName);

    private sealed record Entry(string Name, string[] Parameters, Func<SpecReader, IAggregationStrategy> Build);

    /// <summary>Reads one strategy's parameters, checking each against its rule with the spec's field name.</summary>
    /// <remarks><paramref name="paramName"/> is the argument of <see cref="Create"/> that errors blame.</remarks>
    private sealed class SpecReader(string strategy, IReadOnlyDictionary<string, double> values, string paramName)
    {
        public double Real(string field, double fallback, ParameterRule rule)
        {
            if (!values.TryGetValue(field, out var value))
            {
                return fallback;
            }
            return rule.Accepts(value) ? value : throw rule.SpecError($"{ParametersPath}.{field}", value, paramName);
        }

        public double RequiredReal(string field, ParameterRule rule) =>
            values.ContainsKey(field) ? Real(field, double.NaN, rule) : throw new ArgumentException(
                $"{ParametersPath}.{field}: required by '{strategy}' ({rule.Requirement})", paramName);

        public int RequiredInteger(string field, ParameterRule rule) =>
            OptionalInteger(field, rule) ?? throw new ArgumentException(
                $"{ParametersPath}.{field}: required by '{strategy}' ({rule.Requirement})", paramName);

        public int? OptionalInteger(string field, ParameterRule rule)
        {
            if (!values.TryGetValue(field, out var value))
            {
                return null;
            }
            return rule.Accepts(value) ? (int)value : throw rule.SpecError($"{ParametersPath}.{field}", value, paramName);
        }
    }
}
