namespace Skein.Aggregation;

/// <summary>
/// FedAdam (Reddi et al. 2021, Algorithm 2): m ← β₁·m + (1 - β₁)·Δ, v ← β₂·v + (1 - β₂)·Δ²,
/// global ← global + η·m / (√v + τ), with Δ the sample-weighted mean delta and no bias correction.
/// m starts at 0 and v at τ²; both live in the instance across rounds.
/// </summary>
public sealed class FedAdam : IAggregationStrategy
{
    public const string StrategyName = "fedadam";

    /// <summary>Flower's defaults for FedAdam.</summary>
    public const double DefaultEta = 0.1;
    public const double DefaultBeta1 = 0.9;
    public const double DefaultBeta2 = 0.99;
    public const double DefaultTau = 1e-9;

    private readonly AdaptiveServerOptimizer _optimizer;

    /// <param name="eta">Server learning rate η; > 0.</param>
    /// <param name="beta1">First-moment decay β₁; in [0, 1).</param>
    /// <param name="beta2">Second-moment decay β₂; in [0, 1).</param>
    /// <param name="tau">Adaptivity τ, added to √v; > 0.</param>
    public FedAdam(double eta = DefaultEta, double beta1 = DefaultBeta1, double beta2 = DefaultBeta2, double tau = DefaultTau)
    {
        Eta = ParameterRule.Positive.Check(eta, nameof(eta));
        Beta1 = ParameterRule.UnitInterval.Check(beta1, nameof(beta1));
        Beta2 = ParameterRule.UnitInterval.Check(beta2, nameof(beta2));
        Tau = ParameterRule.Positive.Check(tau, nameof(tau));
        _optimizer = new AdaptiveServerOptimizer(SecondMoment.Adam, Eta, Beta1, Beta2, Tau);
    }

    public string Name => StrategyName;

    public double Eta { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Tau { get; }

    /// <summary>Copies of the moments (m, v), or nulls before the first round.</summary>
    public (float[]? M, float[]? V) Moments => (_optimizer.FirstMoment, _optimizer.SecondMomentVector);

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context) =>
        _optimizer.Step(Name, global, updates);

    /// <summary>Forgets the moments, as for a new task.</summary>
    public void Reset() => _optimizer.Reset();
}
