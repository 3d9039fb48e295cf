using System.Numerics.Tensors;

namespace Skein.Aggregation;

/// <summary>
/// Federated averaging with server momentum (Hsu et al. 2019): v ← β·v + Δ̄ and global ← global + η·v, where Δ̄
/// is the sample-weighted mean delta. The momentum v lives in the instance across rounds and starts at zero; since
/// the last step was η·v, it can also be rebuilt from the two latest global models (<see cref="RestoreFromLastStep"/>).
/// </summary>
public sealed class FedAvgM : IAggregationStrategy, IStepDerivedState
{
    public const string StrategyName = "fedavgm";
    public const double DefaultServerLearningRate = 1.0;
    public const double DefaultMomentum = 0.9;

    private float[]? _velocity;

    /// <param name="serverLearningRate">η, the server step size; > 0.</param>
    /// <param name="momentum">β, the momentum decay; in [0, 1). With β = 0 and η = 1 this is FedAvg.</param>
    public FedAvgM(double serverLearningRate = DefaultServerLearningRate, double momentum = DefaultMomentum)
    {
        ServerLearningRate = ParameterRule.Positive.Check(serverLearningRate, nameof(serverLearningRate));
        Momentum = ParameterRule.UnitInterval.Check(momentum, nameof(momentum));
    }

    public string Name => StrategyName;

    public double ServerLearningRate { get; }

    public double Momentum { get; }

    /// <summary>A copy of the momentum vector, or null before the first round.</summary>
    public float[]? MomentumVector => (float[]?)_velocity?.Clone();

    public void Aggregate(Span<float> global, IReadOnlyList<ClientUpdate> updates, AggregationContext context)
    {
        RoundInput.Check(Name, global, updates);
        RoundInput.CheckStateLength(Name, _velocity, global);
        var mean = new WeightedSumAccumulator(global.Length);
        foreach (var u in updates)
        {
            mean.Add(u.Delta.Span, u.SampleCount);
        }
        var v = _velocity ??= new float[global.Length];
        TensorPrimitives.Multiply(v, (float)Momentum, v);
        mean.AddMeanTo(v);
        TensorPrimitives.MultiplyAdd(v, (float)ServerLearningRate, global, global);
    }

    /// <summary>Sets v = (after − before) / η: the momentum that made the last step.</summary>
    public void RestoreFromLastStep(ReadOnlySpan<float> before, ReadOnlySpan<float> after)
    {
        if (before.Length != after.Length)
        {
            throw new ArgumentException($"{Name}: the two models of the last step have {before.Length} and {after.Length} parameters", nameof(after));
        }
        var v = new float[after.Length];
        TensorPrimitives.Subtract(after, before, v);
        TensorPrimitives.Divide(v, (float)ServerLearningRate, v);
        _velocity = v;
    }

    /// <summary>Forgets the momentum, as for a new task.</summary>
    public void Reset() => _velocity = null;
}
