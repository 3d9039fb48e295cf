namespace Skein.Simulation;

/// <summary>One round's outcome: global test accuracy and loss after aggregation, and timings.</summary>
public sealed record RoundReport(
    int Round,
    double Accuracy,
    double Loss,
    double Seconds,
    int ClientsTrained,
    int MaliciousClients,
    long SamplesTrained,
    double TrainLoss,
    double TrainSeconds,
    double LongestClientSeconds,
    double? Epsilon = null,
    int RefusedUpdates = 0,
    string? AggregationError = null);

/// <summary>The outcome of a whole run.</summary>
public sealed record SimulationReport(
    SimulationOptions Options,
    IReadOnlyList<RoundReport> Rounds,
    double FinalAccuracy,
    double FinalLoss,
    double WallSeconds,
    double TrainSamplesPerSecond,
    int? TargetRound,
    string FinalModelSha256)
{
    /// <summary>The first round whose global test loss or accuracy was not a finite number: where the run diverged.</summary>
    public int? DivergedRound => Rounds.FirstOrDefault(r => !double.IsFinite(r.Loss) || !double.IsFinite(r.Accuracy))?.Round;
}
