using Skein.Learning.Models;
using Skein.Simulation;

namespace Skein.Cli;

/// <summary>One round in the JSON summary.</summary>
public sealed record RoundSummary(int Round, double Accuracy, double Loss, double Seconds, int Clients, int Malicious, long Samples, double? TrainLoss, double? Epsilon, int Refused);

/// <summary>
/// The JSON summary written by --summary FILE and printed by --json. Field names are a public contract:
/// add fields, never rename them.
/// </summary>
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
    int? DivergedRound = null)
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
            report.Rounds.Select(r => new RoundSummary(r.Round, Math.Round(r.Accuracy, 6), Math.Round(r.Loss, 6), Math.Round(r.Seconds, 3), r.ClientsTrained, r.MaliciousClients, r.SamplesTrained, double.IsNaN(r.TrainLoss) ? null : Math.Round(r.TrainLoss, 6), r.Epsilon is { } e ? Math.Round(e, 4) : null, r.RefusedUpdates)).ToArray(),
            Math.Round(report.FinalAccuracy, 6),
            Math.Round(report.FinalLoss, 6),
            o.TargetAccuracy,
            report.TargetRound,
            Math.Round(report.WallSeconds, 3),
            Math.Round(report.TrainSamplesPerSecond, 1),
            report.FinalModelSha256,
            report.DivergedRound);
    }

    public string ToJson() => JsonOutput.Serialize(this);
}
