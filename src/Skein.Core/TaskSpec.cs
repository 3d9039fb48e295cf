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

/// <summary>
/// The model of a task: a name (<c>"2nn"</c>, <c>"transformer-tiny"</c>) or, to fine-tune, an object that also
/// names the base model (a registry hash) and the adapter trainers submit. A plain name is written as a plain
/// string, so that the specs and spec hashes of vision tasks are what they were before fine-tuning existed.
/// </summary>
[JsonConverter(typeof(TaskModelSpecJsonConverter))]
public sealed record TaskModelSpec
{
    public string Name { get; init; } = "";

    /// <summary>SHA-256 (hex) of the base model's safetensors, as the model registry knows it.</summary>
    public string? Base { get; init; }

    public TaskAdapterSpec? Adapter { get; init; }

    public static implicit operator TaskModelSpec(string name) => new() { Name = name };

    public static implicit operator string(TaskModelSpec model) => model?.Name ?? "";

    public override string ToString() => Name;
}

/// <summary>A LoRA adapter on the frozen base: rank, alpha, the layers of each block it targets, and how rounds combine it.</summary>
public sealed record TaskAdapterSpec
{
    /// <summary>The linear layers of a transformer block an adapter can target, in layout order.</summary>
    public static IReadOnlyList<string> KnownTargets { get; } = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    public string Kind { get; init; } = "lora";

    public int Rank { get; init; } = 8;

    public double Alpha { get; init; } = 16;

    public IReadOnlyList<string> Targets { get; init; } = KnownTargets;

    /// <summary>
    /// <c>exact</c>: A stays at its seeded start and only B trains (FFA-LoRA), so averaging the updates is averaging
    /// the clients' weight changes exactly. <c>plain</c>: A and B both train and are averaged separately.
    /// </summary>
    public string Mode { get; init; } = "exact";

    internal IEnumerable<string> Validate()
    {
        if (Kind != "lora")
        {
            yield return $"model.adapter.kind: only 'lora' is supported; got '{Kind}'";
        }
        if (Rank is < 1 or > 1024)
        {
            yield return $"model.adapter.rank: must be in [1, 1024], got {Rank}";
        }
        if (!(Alpha > 0 && double.IsFinite(Alpha)))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"model.adapter.alpha: must be a finite number > 0, got {Alpha}");
        }
        if (Targets is null || Targets.Count == 0)
        {
            yield return "model.adapter.targets: at least one layer is needed";
        }
        else if (Targets.FirstOrDefault(t => !KnownTargets.Contains(t)) is { } unknown)
        {
            yield return $"model.adapter.targets: unknown layer '{unknown}' (known: {string.Join(", ", KnownTargets)})";
        }
        else if (Targets.Distinct(StringComparer.Ordinal).Count() != Targets.Count)
        {
            yield return "model.adapter.targets: a layer is listed twice";
        }
        if (Mode is not ("exact" or "plain"))
        {
            yield return $"model.adapter.mode: must be exact or plain; got '{Mode}'";
        }
    }
}

/// <summary>Reads a task's model as a name or an object, and writes a bare name back as a string.</summary>
public sealed class TaskModelSpecJsonConverter : JsonConverter<TaskModelSpec>
{
    public override TaskModelSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new TaskModelSpec { Name = reader.GetString() ?? "" };
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("model: must be a name such as \"2nn\" or an object with name, base and adapter");
        }
        var fields = JsonSerializer.Deserialize<ModelFields>(ref reader, options) ?? new ModelFields();
        return new TaskModelSpec { Name = fields.Name ?? "", Base = fields.Base, Adapter = fields.Adapter };
    }

    public override void Write(Utf8JsonWriter writer, TaskModelSpec value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Base is null && value.Adapter is null)
        {
            writer.WriteStringValue(value.Name);
            return;
        }
        JsonSerializer.Serialize(writer, new ModelFields { Name = value.Name, Base = value.Base, Adapter = value.Adapter }, options);
    }

    private sealed record ModelFields
    {
        public string? Name { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Base { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public TaskAdapterSpec? Adapter { get; init; }
    }
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

    /// <summary>Fine-tuning tasks: optimizer steps per round on the trainer's text (epochs do not apply to a stream of text).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Steps { get; init; }

    /// <summary>The local steps of a fine-tuning round.</summary>
    [JsonIgnore]
    public int StepsOrDefault => Steps ?? 40;

    /// <summary>The learning rate of round <paramref name="round"/> (1-based).</summary>
    public double LrAt(uint round) => Lr * Math.Pow(LrDecay, Math.Max(0, (double)round - 1));
}

/// <summary>How validators turn a round's updates into scores (0 to 1; below <c>reject_below</c> is a vote to reject).</summary>
public sealed record TaskValidationSpec
{
    /// <summary>
    /// <c>accuracy</c>: held-out accuracy of global + update. <c>cohort</c>: each update against the others of its
    /// round, by the held-out loss of its share of the aggregate and by its norm (docs/incentives.md, "Scores").
    /// <c>bpc</c> (fine-tuning): bits per byte of base + global adapter + update on the validator's held-out text,
    /// against the global adapter alone (docs/finetuning.md, "Scores").
    /// </summary>
    public string Score { get; init; } = "accuracy";
}

/// <summary>
/// The rules of a tournament task (<c>"mode": "tournament"</c>): each trainer fine-tunes its own adapter and submits up
/// to <see cref="SubmissionsPerTrainer"/> a window; validators score each; the window pays by rank (docs/tournaments.md).
/// </summary>
public sealed record TaskTournamentSpec
{
    /// <summary>How many adapters one trainer may submit in one window (1 to 16).</summary>
    public uint SubmissionsPerTrainer { get; init; } = 1;

    /// <summary>The ratio of the rank weights' geometric series: rank k weighs decay^k (0 &lt; decay &lt;= 1).</summary>
    public double Decay { get; init; } = 0.5;

    /// <summary>The least share of a window's reward each side (trainers, validators) gets (0 to 0.5).</summary>
    public double SideFloor { get; init; } = 0.2;

    /// <summary>
    /// A submission whose update has at least this cosine similarity to an earlier submission of another trainer in the
    /// window is a copy: validators score it 0 (0 &lt; threshold &lt;= 1).
    /// </summary>
    public double CopyThreshold { get; init; } = 0.99;

    /// <summary>decay in basis points, as the ledger takes it.</summary>
    [JsonIgnore]
    public uint DecayBps => (uint)Math.Round(Decay * 10_000);

    /// <summary>side_floor in basis points, as the ledger takes it.</summary>
    [JsonIgnore]
    public uint SideFloorBps => (uint)Math.Round(SideFloor * 10_000);

    public IEnumerable<string> Validate()
    {
        if (SubmissionsPerTrainer is 0 or > 16)
        {
            yield return $"tournament.submissions_per_trainer: must be in [1, 16], got {SubmissionsPerTrainer}";
        }
        if (!(Decay > 0 && Decay <= 1) || DecayBps == 0)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"tournament.decay: must be in (0, 1] (at least 0.0001), got {Decay}");
        }
        if (!(SideFloor >= 0 && SideFloor <= 0.5))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"tournament.side_floor: must be in [0, 0.5], got {SideFloor}");
        }
        if (!(CopyThreshold > 0 && CopyThreshold <= 1))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"tournament.copy_threshold: must be in (0, 1], got {CopyThreshold}");
        }
    }
}

/// <summary>
/// A training task as its creator writes it (JSON, snake_case): what to train, how to aggregate, how many rounds,
/// who may take part, and what it pays. Its SHA-256 over the canonical JSON goes on the ledger.
/// </summary>
public sealed record TaskSpec
{
    public string Name { get; init; } = "";

    public TaskModelSpec Model { get; init; } = new();

    public TaskDataSpec Data { get; init; } = new();

    public TaskStrategySpec Strategy { get; init; } = new();

    public TaskTrainingSpec Training { get; init; } = new();

    public TaskValidationSpec Validation { get; init; } = new();

    /// <summary><c>federated</c> (unset: rounds whose updates are combined) or <c>tournament</c> (windows whose submissions compete).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Mode { get; init; }

    /// <summary>A tournament's rules; required with <c>"mode": "tournament"</c>, refused otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TaskTournamentSpec? Tournament { get; init; }

    /// <summary>Whether this is a tournament task: its rounds are submission windows, its trainers compete.</summary>
    [JsonIgnore]
    public bool IsTournament => Mode == "tournament";

    /// <summary>Rounds of a federated task; submission windows of a tournament.</summary>
    public uint Rounds { get; init; }

    public uint TrainersPerRound { get; init; }

    public uint ValidatorsPerRound { get; init; } = 3;

    /// <summary>Reward pool in tokens, as a decimal string ("1000", "12.5").</summary>
    public string RewardPool { get; init; } = "";

    /// <summary>Minimum stake (tokens) to join in either role.</summary>
    public string MinStake { get; init; } = "0";

    /// <summary>Largest update, in bytes, the coordinator accepts for this task; unset: the size of one update of the model.</summary>
    public long? MaxUpdateBytes { get; init; }

    /// <summary>Fine-tuning tasks: the most parameters an adapter may have; the coordinator refuses a task whose adapter exceeds it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? MaxParams { get; init; }

    /// <summary>A validator score (test accuracy of the global model plus the update, 0 to 1) below this is a vote to reject.</summary>
    public double RejectBelow { get; init; } = 0.5;

    public static IReadOnlyList<string> Models { get; } = ["logreg", "2nn", "cnn", "transformer-tiny", "transformer-small"];

    /// <summary>The models that are fine-tuned from a base with an adapter, on text.</summary>
    public static IReadOnlyList<string> LanguageModels { get; } = ["transformer-tiny", "transformer-small"];

    public static IReadOnlyList<string> TextDatasets { get; } = ["sotu", "text"];

    /// <summary>Whether this is a fine-tuning task (a language model, a base and an adapter) rather than a vision one.</summary>
    [JsonIgnore]
    public bool IsFineTuning => LanguageModels.Contains(Model.Name);

    public static IReadOnlyList<string> Partitions { get; } = ["iid", "shards", "dirichlet"];

    public static IReadOnlyList<string> ScoreRules { get; } = ["accuracy", "cohort", "bpc"];

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        // "reward_pool": null or "model": null would otherwise reach the checks as a null where the type has none.
        RespectNullableAnnotations = true,
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
        if (!Models.Contains(Model.Name))
        {
            e.Add($"model: must be one of {string.Join(", ", Models)}; got '{Model.Name}'");
        }
        if (IsFineTuning)
        {
            ValidateFineTuning(e);
        }
        else
        {
            if (Model.Base is not null || Model.Adapter is not null)
            {
                e.Add($"model.base, model.adapter: only fine-tuning tasks ({string.Join(", ", LanguageModels)}) have a base and an adapter");
            }
            if (Data.Dataset != "mnist")
            {
                e.Add($"data.dataset: a {Model.Name} task trains on 'mnist'; got '{Data.Dataset}'");
            }
            if (Validation.Score == "bpc")
            {
                e.Add("validation.score: 'bpc' scores language models; use accuracy or cohort");
            }
            if (MaxParams is not null)
            {
                e.Add("max_params: applies to fine-tuning tasks only");
            }
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
        if (Mode is not (null or "federated" or "tournament"))
        {
            e.Add($"mode: must be federated or tournament; got '{Mode}'");
        }
        if (IsTournament)
        {
            if (Tournament is null)
            {
                e.Add("tournament: is required with \"mode\": \"tournament\" (submissions_per_trainer, decay, side_floor, copy_threshold)");
            }
            else
            {
                e.AddRange(Tournament.Validate());
            }
            if (!IsFineTuning)
            {
                e.Add($"mode: a tournament's trainers submit adapters on a base, so its model must be one of {string.Join(", ", LanguageModels)}; got '{Model.Name}'");
            }
        }
        else if (Tournament is not null)
        {
            e.Add("tournament: applies only with \"mode\": \"tournament\"");
        }
        // A tournament picks every joined trainer: trainers_per_round does not apply.
        if (!IsTournament && TrainersPerRound is 0 or > 10_000)
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

    private void ValidateFineTuning(List<string> e)
    {
        if (Model.Base is not { } hash || hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
        {
            e.Add($"model.base: must be the base model's SHA-256 (64 lowercase hex digits, see skein model list); got '{Model.Base}'");
        }
        if (Model.Adapter is not { } adapter)
        {
            e.Add("model.adapter: is required (fine-tuning trains a LoRA adapter on the frozen base)");
        }
        else
        {
            e.AddRange(adapter.Validate());
        }
        if (!TextDatasets.Contains(Data.Dataset))
        {
            e.Add($"data.dataset: a {Model.Name} task trains on text ({string.Join(", ", TextDatasets)}); got '{Data.Dataset}'");
        }
        if (Validation.Score != "bpc")
        {
            e.Add($"validation.score: a {Model.Name} task is scored by 'bpc'; got '{Validation.Score}'");
        }
        if (Training.Steps is < 1 or > 100_000)
        {
            e.Add($"training.steps: must be in [1, 100000], got {Training.Steps}");
        }
        if (MaxParams is < 1)
        {
            e.Add($"max_params: must be >= 1, got {MaxParams}");
        }
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
