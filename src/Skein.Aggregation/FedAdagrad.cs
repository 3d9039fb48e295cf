namespace Skein.Aggregation;

/// <summary>
/// FedAdagrad (Reddi et al. 2021, Algorithm 2): m ← β₁·m + (1 - β₁)·Δ, v ← v + Δ², global ← global + η·m / (√v + τ),
/// with Δ the sample-weighted mean delta. m starts at 0 and v at τ²; both live in the instance across rounds.
/// </summary>
public sealed class FedAdagrad : IAggregationStrategy
{
    public const string StrategyName = "fedadagrad";

    /// <summary>Flower's default server learning rate for FedAdagrad.</summary>
    public const double DefaultEta = 0.1;

    /// <summary>Algorithm 2's momentum (Flower fixes β₁ = 0 for FedAdagrad; pass 0 to match it).</summary>
    public const double DefaultBeta1 = 0.9;

    /// <summary>Flower's default adaptivity for FedAdagrad.</summary>
    public const double DefaultTau = 1e-9;

    private readonly AdaptiveServerOptimizer _optimizer;

    /// <param name="eta">Server learning rate η; > 0.</param>
    /// <param name="beta1">First-moment decay β₁; in [0, 1).</param>
    /// <param name="tau">Adaptivity τ, added to √v; > 0.</param>
    public FedAdagrad(double eta = DefaultEta, double beta1 = DefaultBeta1, double tau = DefaultTau)
    {
        Eta = ParameterRule.Positive.Check(eta, nameof(eta));
        Beta1 = ParameterRule.UnitInterval.Check(beta1, nameof(beta1));
        Tau = ParameterRule.Positive.Check(tau, nameof(tau));
        _optimizer = new AdaptiveServerOptimizer(SecondMoment.Adagrad, Eta, Beta1, 0, Tau);
    }

    public string Name => StrategyName;

    public double Eta { get; }

    public double Beta1 { get; }

    public double Tau { get; }

    /// <summary>Copies of the moments (m, v), or nulls before the first round.</summary>
    public (float[]? M, float[]? V) Moments => (_optimizer.FirstMoment, _optimizer.SecondMomentVector);

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context) =>
        _optimizer.Step(Name, global, updates);

    /// <summary>Forgets the moments, as for a new task.</summary>
    public void Reset() => _optimizer.Reset();
}
