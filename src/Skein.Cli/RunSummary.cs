using Skein.Learning.Models;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>One round in the JSON summary (accuracy and loss are null in rounds that skip the test).</summary>
public sealed record RoundSummary(int Round, double Accuracy, double Loss, double Seconds, int Clients, int Malicious, long Samples, double? TrainLoss, double? Epsilon, int Refused,
    double TrainingSeconds = 0, double AggregationSeconds = 0, double EvalSeconds = 0, double OverheadSeconds = 0, bool Evaluated = true);

/// <summary>
/// The JSON summary written by --summary FILE and printed by --json. Field names are a public contract:
/// add fields, never rename them.
/// </summary>
/// <remarks>
/// overhead_fraction is overhead_seconds / (round_seconds - eval_seconds): of the rounds' time outside testing,
/// the share that is neither the clients' phase (training_seconds) nor the test; peak_memory_mb is the process's
/// peak resident memory in MiB. strict_overhead_fraction counts as overhead everything but local training proper
/// (local_training_seconds: per round, the clients' training times summed and divided by the workers).
/// </remarks>
public sealed record RunSummary(
    string Model,
    int Clients,
    double Fraction,
    int ClientsPerRound,
    int Epochs,
    int BatchSize,
    double Lr,
    double LrDecay,
    string Partition,
    string Strategy,
    IReadOnlyDictionary<string, double> StrategyParams,
    string? Attack,
    ulong Seed,
    int Parallelism,
    IReadOnlyList<RoundSummary> Rounds,
    double FinalAccuracy,
    double FinalLoss,
    double? Target,
    int? TargetRound,
    double WallSeconds,
    double TrainSamplesPerSecond,
    string ModelSha256,
    int? DivergedRound = null,
    int EvalEvery = 1,
    double PeakMemoryMb = 0,
    double RoundSeconds = 0,
    double TrainingSeconds = 0,
    double EvalSeconds = 0,
    double OverheadSeconds = 0,
    double OverheadFraction = 0,
    double LocalTrainingSeconds = 0,
    double StrictOverheadFraction = 0)
{
    /// <summary>True when the global model's test loss stopped being a finite number (see <see cref="DivergedRound"/>).</summary>
    public bool Diverged => DivergedRound is not null;

    public static RunSummary From(SimulationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var o = report.Options;
        return new RunSummary(
            o.Model.ToName(),
            o.Clients,
            o.Fraction,
            o.ClientsPerRound,
            o.LocalEpochs,
            o.BatchSize,
            o.LearningRate,
            o.LearningRateDecay,
            o.Partition.ToString().ToLowerInvariant(),
            o.Strategy.Name,
            o.Strategy.Parameters,
            o.Attack?.ToString(),
            o.Seed,
            o.Parallelism,
            report.Rounds.Select(r => new RoundSummary(r.Round, Math.Round(r.Accuracy, 6), Math.Round(r.Loss, 6), Math.Round(r.Seconds, 3), r.ClientsTrained, r.MaliciousClients, r.SamplesTrained, double.IsNaN(r.TrainLoss) ? null : Math.Round(r.TrainLoss, 6), r.Epsilon is { } e ? Math.Round(e, 4) : null, r.RefusedUpdates,
                Math.Round(r.TrainSeconds, 4), Math.Round(r.AggregationSeconds, 4), Math.Round(r.EvaluationSeconds, 4), Math.Round(r.OverheadSeconds, 4), r.Evaluated)).ToArray(),
            Math.Round(report.FinalAccuracy, 6),
            Math.Round(report.FinalLoss, 6),
            o.TargetAccuracy,
            report.TargetRound,
            Math.Round(report.WallSeconds, 3),
            Math.Round(report.TrainSamplesPerSecond, 1),
            report.FinalModelSha256,
            report.DivergedRound,
            o.EvaluateEvery,
            Math.Round(report.PeakMemoryBytes / (1024.0 * 1024.0), 1),
            Math.Round(report.RoundSeconds, 3),
            Math.Round(report.TrainingSeconds, 3),
            Math.Round(report.EvaluationSeconds, 3),
            Math.Round(report.OverheadSeconds, 3),
            Math.Round(report.OverheadFraction, 4),
            Math.Round(report.LocalTrainingSeconds, 3),
            Math.Round(report.StrictOverheadFraction, 4));
    }

    public string ToJson() => JsonOutput.Serialize(this);
}
