using System.Text.Json;
using System.Text.Json.Serialization;
using Skein.Aggregation;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Simulation.Attacks;

namespace Skein.Simulation;

/// <summary>A strategy in a scenario file: its name and numeric parameters.</summary>
public sealed record StrategyConfig
{
    public string Name { get; init; } = "fedavg";

    public Dictionary<string, double> Params { get; init; } = [];

    public StrategySpec ToSpec() => new(Name, Params);

    public override string ToString() =>
        Params.Count == 0 ? Name : $"{Name}({string.Join(", ", Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))})";
}

/// <summary>An attack in a scenario file.</summary>
public sealed record AttackConfig
{
    public string Type { get; init; } = "";

    public double Fraction { get; init; }

    public Dictionary<string, double> Params { get; init; } = [];

    public AttackOptions ToOptions() => AttackOptions.Parse(Type, Fraction, Params);
}

/// <summary>Several runs of one scenario: every strategy against every attack (null: no attack).</summary>
public sealed record MatrixConfig
{
    public List<StrategyConfig> Strategies { get; init; } = [];

    public List<AttackConfig?> Attacks { get; init; } = [];
}

/// <summary>
/// A federated-learning scenario for `skein bench fl`: the runner's options in snake_case JSON, a target
/// accuracy and a round budget, and optionally a matrix of strategies and attacks.
/// </summary>
public sealed record FlBenchConfig
{
    public string Name { get; init; } = "scenario";

    public string? Description { get; init; }

    public string Model { get; init; } = "2nn";

    public string Partition { get; init; } = "iid";

    public double Alpha { get; init; } = 0.5;

    public int Clients { get; init; } = 100;

    public double Fraction { get; init; } = 0.1;

    public int Epochs { get; init; } = 1;

    public int BatchSize { get; init; } = 10;

    public double Lr { get; init; } = 0.05;

    public double LrDecay { get; init; } = 1;

    public StrategyConfig Strategy { get; init; } = new();

    public AttackConfig? Attack { get; init; }

    public double? Target { get; init; }

    public int MaxRounds { get; init; } = 100;

    public bool StopAtTarget { get; init; }

    public ulong Seed { get; init; } = 42;

    /// <summary>The rounds the original paper reports for this setting, shown beside ours.</summary>
    public int? PaperRounds { get; init; }

    public MatrixConfig? Matrix { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and checks a scenario file; every error names the file and the field.</summary>
    public static FlBenchConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"--config: file '{path}' does not exist", path);
        }
        FlBenchConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<FlBenchConfig>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: {(ex.Path is { } p ? $"field {p}: " : "")}{ex.Message}");
        }
        if (config is null)
        {
            throw new FormatException($"{path}: the file holds no scenario object");
        }
        var errors = config.Validate();
        return errors.Count == 0 ? config : throw new FormatException($"{path}: {string.Join("; ", errors)}");
    }

    /// <summary>The runs this scenario describes: one, or one per matrix cell (strategies outer, attacks inner).</summary>
    public IReadOnlyList<SimulationOptions> ToRuns(int parallelism)
    {
        if (Matrix is null)
        {
            return [ToOptions(Strategy, Attack, parallelism)];
        }
        var attacks = Matrix.Attacks.Count == 0 ? [null] : Matrix.Attacks;
        return Matrix.Strategies.SelectMany(s => attacks.Select(a => ToOptions(s, a, parallelism))).ToArray();
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!ModelNames.TryParse(Model, out _))
        {
            errors.Add($"model: must be one of {string.Join(", ", ModelNames.All)}; got '{Model}'");
        }
        if (!Enum.TryParse<PartitionKind>(Partition, ignoreCase: true, out _))
        {
            errors.Add($"partition: must be one of iid, shards, dirichlet; got '{Partition}'");
        }
        if (MaxRounds < 1)
        {
            errors.Add($"max_rounds: must be >= 1, got {MaxRounds}");
        }
        if (Matrix is { Strategies.Count: 0 })
        {
            errors.Add("matrix.strategies: must list at least one strategy");
        }
        if (errors.Count > 0)
        {
            return errors;
        }
        IReadOnlyList<SimulationOptions> runs;
        try
        {
            runs = ToRuns(1);
        }
        catch (ArgumentException ex)
        {
            return [ex.Message];
        }
        foreach (var run in runs)
        {
            // The runner's own rules, with its option names mapped to this file's field names.
            errors.AddRange(run.Validate(60_000).Select(e => e.Replace("--batch-size", "batch_size", StringComparison.Ordinal)
                .Replace("--lr-decay", "lr_decay", StringComparison.Ordinal).Replace("--rounds", "max_rounds", StringComparison.Ordinal)
                .Replace("--epochs", "epochs", StringComparison.Ordinal).Replace("--", "", StringComparison.Ordinal)));
            if (SimulationRunner.StrategyError(run.Strategy, run) is { } strategyError)
            {
                errors.Add(strategyError);
            }
        }
        return errors.Distinct().ToArray();
    }

    private SimulationOptions ToOptions(StrategyConfig strategy, AttackConfig? attack, int parallelism)
    {
        if (!ModelNames.TryParse(Model, out var model))
        {
            throw new ArgumentException($"model: must be one of {string.Join(", ", ModelNames.All)}; got '{Model}'");
        }
        AttackOptions? attackOptions = null;
        if (attack is not null)
        {
            attackOptions = attack.ToOptions();
        }
        return new SimulationOptions
        {
            Model = model,
            Partition = Enum.Parse<PartitionKind>(Partition, ignoreCase: true),
            DirichletAlpha = Alpha,
            Clients = Clients,
            Fraction = Fraction,
            LocalEpochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = Lr,
            LearningRateDecay = LrDecay,
            Strategy = strategy.ToSpec(),
            Attack = attackOptions,
            TargetAccuracy = Target,
            Rounds = MaxRounds,
            StopAtTarget = StopAtTarget,
            Seed = Seed,
            Parallelism = parallelism,
        };
    }
}
