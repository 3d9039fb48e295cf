using Skein.Aggregation;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Simulation.Attacks;

namespace Skein.Simulation;

/// <summary>
/// A federated run in the notation of McMahan et al.: K clients, a fraction C of them sampled per round, R
/// rounds, E local epochs with batch size B and learning rate lr, on a given model and partition.
/// </summary>
/// <remarks>
/// K may exceed the number of training examples with the iid and Dirichlet partitions: every example still goes
/// to exactly one client, the clients left without one are never sampled, and m = round(C K) clients are drawn
/// from those that hold data.
/// </remarks>
public sealed record SimulationOptions
{
    public ModelKind Model { get; init; } = ModelKind.Mlp2NN;

    /// <summary>K, the number of clients the training set is split among.</summary>
    public int Clients { get; init; } = 100;

    /// <summary>C, the fraction of clients sampled each round (at least one is always sampled).</summary>
    public double Fraction { get; init; } = 0.1;

    /// <summary>R, the number of rounds.</summary>
    public int Rounds { get; init; } = 50;

    /// <summary>E, local epochs per round.</summary>
    public int LocalEpochs { get; init; } = 1;

    /// <summary>B, the local minibatch size.</summary>
    public int BatchSize { get; init; } = 10;

    public double LearningRate { get; init; } = 0.05;

    /// <summary>Per-round multiplicative decay of the local learning rate: round r trains with lr * decay^(r-1).</summary>
    public double LearningRateDecay { get; init; } = 1.0;

    /// <summary>The local learning rate of round <paramref name="round"/> (1-based).</summary>
    public double LearningRateAt(int round) => LearningRate * Math.Pow(LearningRateDecay, round - 1);

    public PartitionKind Partition { get; init; } = PartitionKind.Iid;

    /// <summary>Concentration of the Dirichlet partition (only used when <see cref="Partition"/> is Dirichlet).</summary>
    public double DirichletAlpha { get; init; } = 0.5;

    public ulong Seed { get; init; } = 42;

    /// <summary>Clients trained at once; defaults to the processor count.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>If set, the round at which test accuracy first reaches it is reported.</summary>
    public double? TargetAccuracy { get; init; }

    /// <summary>End the run at the first round that reaches <see cref="TargetAccuracy"/>.</summary>
    public bool StopAtTarget { get; init; }

    /// <summary>
    /// The server's aggregation strategy. "fedprox" is FedAvg on the server plus the proximal term mu (parameter
    /// "mu", default 0.01) in every client's local loss.
    /// </summary>
    public StrategySpec Strategy { get; init; } = new("fedavg", new Dictionary<string, double>());

    /// <summary>Malicious clients, if any.</summary>
    public AttackOptions? Attack { get; init; }

    /// <summary>
    /// Test the global model every this many rounds (and always after the last): testing 10,000 images costs more
    /// than a round of 100 clients holding one image each, so population-scale runs test less often.
    /// </summary>
    public int EvaluateEvery { get; init; } = 1;

    /// <summary>The most clients a run may have: their offsets alone take 4 bytes each.</summary>
    public const int MaxClients = 10_000_000;

    /// <summary>Whether round <paramref name="round"/> ends with a test of the global model.</summary>
    public bool EvaluatesAt(int round) => round % EvaluateEvery == 0 || round == Rounds;

    /// <summary>m = max(1, round(C K)): clients per round.</summary>
    public int ClientsPerRound => Math.Max(1, (int)Math.Round(Fraction * Clients, MidpointRounding.AwayFromZero));

    public TrainingOptions TrainingAt(int round) => new(LocalEpochs, BatchSize, LearningRateAt(round));

    /// <summary>Every rule the options break, each naming its option; empty if valid.</summary>
    public IReadOnlyList<string> Validate(int trainingExamples)
    {
        var errors = new List<string>();
        if (Clients < 1)
        {
            errors.Add($"--clients must be >= 1, got {Clients}");
        }
        else if (Clients > MaxClients)
        {
            errors.Add($"--clients must be at most {MaxClients}, got {Clients}");
        }
        if (!(Fraction > 0 && Fraction <= 1))
        {
            errors.Add($"--fraction must be in (0, 1], got {Fraction}");
        }
        if (Rounds < 1)
        {
            errors.Add($"--rounds must be >= 1, got {Rounds}");
        }
        if (LocalEpochs < 1)
        {
            errors.Add($"--epochs must be >= 1, got {LocalEpochs}");
        }
        if (BatchSize < 1)
        {
            errors.Add($"--batch-size must be >= 1, got {BatchSize}");
        }
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            errors.Add($"--lr must be a finite number > 0, got {LearningRate}");
        }
        if (!(LearningRateDecay > 0 && LearningRateDecay <= 1))
        {
            errors.Add($"--lr-decay must be in (0, 1], got {LearningRateDecay}");
        }
        if (!(DirichletAlpha > 0) || double.IsInfinity(DirichletAlpha))
        {
            errors.Add($"--alpha must be a finite number > 0, got {DirichletAlpha}");
        }
        if (EvaluateEvery < 1)
        {
            errors.Add($"--eval-every must be >= 1, got {EvaluateEvery}");
        }
        if (Parallelism < 1)
        {
            errors.Add($"--parallelism must be >= 1, got {Parallelism}");
        }
        if (TargetAccuracy is { } t && !(t > 0 && t <= 1))
        {
            errors.Add($"--target must be in (0, 1], got {t}");
        }
        if (Attack?.Validate() is { } attackError)
        {
            errors.Add(attackError);
        }
        if (Partition == PartitionKind.Shards && Clients >= 1 && (long)Clients * 2 > trainingExamples)
        {
            errors.Add($"--partition shards needs 2 examples per client; {Clients} clients is too many");
        }
        return errors;
    }
}
