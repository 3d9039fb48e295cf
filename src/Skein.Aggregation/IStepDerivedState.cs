namespace Skein.Aggregation;

/// <summary>
/// A strategy whose server state is a function of the last global step alone, so that anyone holding the two
/// most recent published models can rebuild it. A networked coordinator then keeps no hidden state: a restart,
/// and a third party running <c>skein verify</c>, compute the same bits.
/// </summary>
public interface IStepDerivedState
{
    /// <summary>Replaces the server state with the one implied by the step <paramref name="before"/> → <paramref name="after"/>.</summary>
    void RestoreFromLastStep(ReadOnlySpan<float> before, ReadOnlySpan<float> after);
}

/// <summary>Which strategies a round can recompute from published data.</summary>
public static class StrategyState
{
    /// <summary>True for strategies with server state that is neither absent nor derivable from the last step (adaptive moments).</summary>
    public static bool HasHiddenState(IAggregationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var inner = strategy is NormClipping clipping ? clipping.Inner : strategy;
        return inner is FedAdagrad or FedAdam or FedYogi;
    }

    /// <summary>Rebuilds the state of <paramref name="strategy"/> (or of the strategy it wraps) from the last step, if it has any.</summary>
    public static void RestoreFromLastStep(IAggregationStrategy strategy, ReadOnlySpan<float> before, ReadOnlySpan<float> after)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var inner = strategy is NormClipping clipping ? clipping.Inner : strategy;
        if (inner is IStepDerivedState derived)
        {
            derived.RestoreFromLastStep(before, after);
        }
    }
}
