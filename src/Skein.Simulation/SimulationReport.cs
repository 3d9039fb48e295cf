namespace Skein.Simulation;

/// <summary>One round's outcome: global test accuracy and loss after aggregation, and timings.</summary>
/// <remarks>
/// <see cref="Seconds"/> is the whole round; <see cref="TrainSeconds"/> the clients' phase (receive the global
/// model, train, form and check the delta, in parallel); <see cref="AggregationSeconds"/> the server's work after
/// it; <see cref="EvaluationSeconds"/> the test of the new model, zero in rounds that skip it (then accuracy and
/// loss are NaN and <see cref="Evaluated"/> is false).
/// </remarks>
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
    string? AggregationError = null)
{
    public double AggregationSeconds { get; init; }

    public double EvaluationSeconds { get; init; }

    public bool Evaluated { get; init; } = true;

    /// <summary>The clients' training proper (<c>LocalTrainer.Train</c>), summed over the round's clients.</summary>
    public double ClientTrainSecondsSum { get; init; }

    /// <summary>What the round spent beside training and testing: sampling, aggregation, bookkeeping.</summary>
    public double OverheadSeconds => Math.Max(0, Seconds - TrainSeconds - EvaluationSeconds);
}

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
    public int? DivergedRound => Rounds.FirstOrDefault(r => r.Evaluated && (!double.IsFinite(r.Loss) || !double.IsFinite(r.Accuracy)))?.Round;

    /// <summary>The process's peak resident memory when the report was built (0 if unknown).</summary>
    public long PeakMemoryBytes { get; init; }

    /// <summary>Wall seconds of all rounds, each from sampling to the end of its test.</summary>
    public double RoundSeconds => Rounds.Sum(r => r.Seconds);

    /// <summary>Wall seconds of the clients' phases.</summary>
    public double TrainingSeconds => Rounds.Sum(r => r.TrainSeconds);

    public double EvaluationSeconds => Rounds.Sum(r => r.EvaluationSeconds);

    public double OverheadSeconds => Rounds.Sum(r => r.OverheadSeconds);

    /// <summary>
    /// The clients' training proper as wall time: per round, the sum over clients of their training time divided
    /// by the workers that ran them. What the clients' phase spends beyond it is the simulator's per-client work
    /// (loading the global model, gathering the client's examples, forming the delta) and idle workers.
    /// </summary>
    public double LocalTrainingSeconds => Rounds.Sum(r => r.ClientTrainSecondsSum / Math.Max(1, Math.Min(Options.Parallelism, r.ClientsTrained)));

    /// <summary>Like <see cref="OverheadFraction"/>, but counting everything other than local training proper as overhead.</summary>
    public double StrictOverheadFraction => RoundSeconds - EvaluationSeconds is var busy and > 0 ? Math.Max(0, busy - LocalTrainingSeconds) / busy : 0;

    /// <summary>
    /// Overhead over the rounds' time without testing: the share of a round that is neither the clients' phase nor
    /// the test (which <see cref="SimulationOptions.EvaluateEvery"/> controls and is reported on its own).
    /// </summary>
    public double OverheadFraction => RoundSeconds - EvaluationSeconds is var busy and > 0 ? OverheadSeconds / busy : 0;
}
