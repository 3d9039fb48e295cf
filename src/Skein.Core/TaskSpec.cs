using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skein.Core;

/// <summary>The data a task trains on and how it is split among simulated clients (ignored by real nodes, which bring their own).</summary>
public sealed record TaskDataSpec
{
    public string Dataset { get; init; } = "mnist";

    public string Partition { get; init; } = "iid";

    public double? Alpha { get; init; }
}

/// <summary>The aggregation strategy of a task and its numeric parameters (docs/strategies.md).</summary>
public sealed record TaskStrategySpec
{
    public string Name { get; init; } = "fedavg";

    public Dictionary<string, double> Params { get; init; } = [];
}

/// <summary>Local training settings every trainer of the task uses.</summary>
public sealed record TaskTrainingSpec
{
    public int Epochs { get; init; } = 1;

    public int BatchSize { get; init; } = 10;

    public double Lr { get; init; } = 0.05;

    /// <summary>Round r trains with lr · lr_decay^(r−1); 1 keeps the rate constant.</summary>
    public double LrDecay { get; init; } = 1.0;

    /// <summary>The learning rate of round <paramref name="round"/> (1-based).</summary>
    public double LrAt(uint round) => Lr * Math.Pow(LrDecay, Math.Max(0, (double)round - 1));
}

/// <summary>How validators turn a round's updates into scores (0 to 1; below <c>reject_below</c> is a vote to reject).</summary>
public sealed record TaskValidationSpec
{
    /// <summary>
    /// <c>accuracy</c>: held-out accuracy of global + update. <c>cohort</c>: each update against the others of its
    /// round, by the held-out loss of its share of the aggregate and by its norm (docs/incentives.md, "Scores").
    /// </summary>
    public string Score { get; init; } = "accuracy";
}

/// <summary>
/// A training task as its creator writes it (JSON, snake_case): what to train, how to aggregate, how many rounds,
/// who may take part, and what it pays. Its SHA-256 over the canonical JSON goes on the ledger.
/// </summary>
public sealed record TaskSpec
{
    public string Name { get; init; } = "";

    public string Model { get; init; } = "";

    public TaskDataSpec Data { get; init; } = new();

    public TaskStrategySpec Strategy { get; init; } = new();

    public TaskTrainingSpec Training { get; init; } = new();

    public TaskValidationSpec Validation { get; init; } = new();

    public uint Rounds { get; init; }

    public uint TrainersPerRound { get; init; }

    public uint ValidatorsPerRound { get; init; } = 3;

    /// <summary>Reward pool in tokens, as a decimal string ("1000", "12.5").</summary>
    public string RewardPool { get; init; } = "";

    /// <summary>Minimum stake (tokens) to join in either role.</summary>
    public string MinStake { get; init; } = "0";

    /// <summary>Largest update, in bytes, the coordinator accepts for this task; unset: the size of one update of the model.</summary>
    public long? MaxUpdateBytes { get; init; }

    /// <summary>A validator score (test accuracy of the global model plus the update, 0 to 1) below this is a vote to reject.</summary>
    public double RejectBelow { get; init; } = 0.5;

    public static IReadOnlyList<string> Models { get; } = ["logreg", "2nn", "cnn"];

    public static IReadOnlyList<string> Partitions { get; } = ["iid", "shards", "dirichlet"];

    public static IReadOnlyList<string> ScoreRules { get; } = ["accuracy", "cohort"];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = false,
    };

    /// <summary>Parses and checks a spec; every error names the field (e.g. <c>training.batch_size: must be >= 1, got 0</c>).</summary>
    public static TaskSpec Parse(string json, string source = "spec")
    {
        ArgumentNullException.ThrowIfNull(json);
        TaskSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<TaskSpec>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{source}: {(ex.Path is { Length: > 1 } p ? $"field {p[2..]}: " : "")}{ex.Message}");
        }
        if (spec is null)
        {
            throw new FormatException($"{source}: the file holds no task object");
        }
        var errors = spec.Validate();
        return errors.Count == 0 ? spec : throw new FormatException($"{source}: {string.Join("; ", errors)}");
    }

    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            e.Add("name: must be 1 to 100 characters");
        }
        if (!Models.Contains(Model))
        {
            e.Add($"model: must be one of {string.Join(", ", Models)}; got '{Model}'");
        }
        if (Data.Dataset != "mnist")
        {
            e.Add($"data.dataset: only 'mnist' is supported; got '{Data.Dataset}'");
        }
        if (!Partitions.Contains(Data.Partition))
        {
            e.Add($"data.partition: must be one of {string.Join(", ", Partitions)}; got '{Data.Partition}'");
        }
        if (Data.Alpha is { } a && !(a > 0 && double.IsFinite(a)))
        {
            e.Add(Invariant($"data.alpha: must be a finite number > 0, got {a}"));
        }
        if (MaxUpdateBytes is < 1 or > 16L << 30)
        {
            e.Add($"max_update_bytes: must be between 1 and 17179869184, got {MaxUpdateBytes}");
        }
        if (!ScoreRules.Contains(Validation.Score))
        {
            e.Add($"validation.score: must be one of {string.Join(", ", ScoreRules)}; got '{Validation.Score}'");
        }
        if (string.IsNullOrWhiteSpace(Strategy.Name))
        {
            e.Add("strategy.name: is required");
        }
        foreach (var (k, v) in Strategy.Params)
        {
            if (!double.IsFinite(v))
            {
                e.Add($"strategy.params.{k}: must be a finite number");
            }
        }
        if (Training.Epochs is < 1 or > 1000)
        {
            e.Add($"training.epochs: must be in [1, 1000], got {Training.Epochs}");
        }
        if (Training.BatchSize is < 1 or > 100_000)
        {
            e.Add($"training.batch_size: must be in [1, 100000], got {Training.BatchSize}");
        }
        if (!(Training.Lr > 0 && double.IsFinite(Training.Lr)))
        {
            e.Add(Invariant($"training.lr: must be a finite number > 0, got {Training.Lr}"));
        }
        if (!(Training.LrDecay > 0 && Training.LrDecay <= 1))
        {
            e.Add(Invariant($"training.lr_decay: must be in (0, 1], got {Training.LrDecay}"));
        }
        if (Rounds is 0 or > 100_000)
        {
            e.Add($"rounds: must be in [1, 100000], got {Rounds}");
        }
        if (TrainersPerRound is 0 or > 10_000)
        {
            e.Add($"trainers_per_round: must be in [1, 10000], got {TrainersPerRound}");
        }
        if (ValidatorsPerRound is 0 or > 1_000)
        {
            e.Add($"validators_per_round: must be in [1, 1000], got {ValidatorsPerRound}");
        }
        if (!IsTokenAmount(RewardPool, positive: true))
        {
            e.Add($"reward_pool: must be a positive token amount such as \"1000\" or \"12.5\"; got '{RewardPool}'");
        }
        if (!IsTokenAmount(MinStake, positive: false))
        {
            e.Add($"min_stake: must be a token amount such as \"10\"; got '{MinStake}'");
        }
        if (!(RejectBelow >= 0 && RejectBelow <= 1))
        {
            e.Add(Invariant($"reject_below: must be in [0, 1], got {RejectBelow}"));
        }
        return e;
    }

    /// <summary>SHA-256 of the canonical (compact, field-ordered) JSON: the hash the ledger records.</summary>
    public string Sha256()
    {
        // Dictionaries serialise in insertion order; sort the parameters so equal specs hash equally.
        var canonical = this with
        {
            Strategy = Strategy with { Params = Strategy.Params.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) },
        };
        return Hashing.Sha256Hex(JsonSerializer.SerializeToUtf8Bytes(canonical, JsonOptions));
    }

    private static bool IsTokenAmount(string text, bool positive)
    {
        var parts = text.Split('.');
        if (parts.Length > 2 || parts[0].Length == 0 || !parts.All(p => p.All(char.IsAsciiDigit)) || (parts.Length == 2 && parts[1].Length is 0 or > 18))
        {
            return false;
        }
        return !positive || text.Any(c => c is >= '1' and <= '9');
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
