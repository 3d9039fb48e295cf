using System.Globalization;
using Skein.Aggregation;
using Skein.Coordinator.Rounds;
using Skein.Core;

namespace Skein.Console.Data;

/// <summary>
/// The create-task form: every field of a task spec as typed (text, so that a bad number is reported by its field
/// instead of failing to bind), turned into a <see cref="TaskSpec"/> with the same field-named errors as the CLI.
/// </summary>
public sealed class TaskForm
{
    public string Name { get; set; } = "";
    public string Model { get; set; } = "2nn";
    public string Partition { get; set; } = "iid";
    public string Alpha { get; set; } = "";
    public string Strategy { get; set; } = "fedavg";
    public string StrategyParams { get; set; } = "";
    public string Epochs { get; set; } = "1";
    public string BatchSize { get; set; } = "10";
    public string Lr { get; set; } = "0.05";
    public string LrDecay { get; set; } = "1";
    public string Score { get; set; } = "accuracy";
    public string Rounds { get; set; } = "20";
    public string TrainersPerRound { get; set; } = "5";
    public string ValidatorsPerRound { get; set; } = "3";
    public string RewardPool { get; set; } = "100";
    public string MinStake { get; set; } = "10";
    public string RejectBelow { get; set; } = "0.5";
    public string MaxUpdateBytes { get; set; } = "";

    /// <summary>Which button was pressed: "preview" checks and hashes only, "create" also sends.</summary>
    public string Intent { get; set; } = "preview";

    /// <summary>The spec, or every error found (each "field: rule, got value", as `skein task create` words them).</summary>
    public (TaskSpec? Spec, IReadOnlyList<string> Errors) ToSpec()
    {
        var errors = new List<string>();
        var strategyParams = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in StrategyParams.Split([',', '\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || kv[0].Length == 0 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                errors.Add($"strategy.params: expected name=number pairs separated by commas, got '{part}'");
                continue;
            }
            strategyParams[kv[0]] = v;
        }
        var spec = new TaskSpec
        {
            Name = Name.Trim(),
            Model = Model,
            Data = new TaskDataSpec { Partition = Partition, Alpha = OptionalDouble(Alpha, "data.alpha", errors) },
            Strategy = new TaskStrategySpec { Name = Strategy.Trim(), Params = strategyParams },
            Training = new TaskTrainingSpec
            {
                Epochs = Int(Epochs, "training.epochs", errors),
                BatchSize = Int(BatchSize, "training.batch_size", errors),
                Lr = Double(Lr, "training.lr", errors),
                LrDecay = Double(LrDecay, "training.lr_decay", errors),
            },
            Validation = new TaskValidationSpec { Score = Score },
            Rounds = UInt(Rounds, "rounds", errors),
            TrainersPerRound = UInt(TrainersPerRound, "trainers_per_round", errors),
            ValidatorsPerRound = UInt(ValidatorsPerRound, "validators_per_round", errors),
            RewardPool = RewardPool.Trim(),
            MinStake = MinStake.Trim(),
            RejectBelow = Double(RejectBelow, "reject_below", errors),
            MaxUpdateBytes = string.IsNullOrWhiteSpace(MaxUpdateBytes) ? null : Long(MaxUpdateBytes, "max_update_bytes", errors),
        };
        var parsedFields = errors.Select(Field).ToHashSet(StringComparer.Ordinal);
        // The spec's own checks, minus those of fields already reported as unparseable (their value is a placeholder).
        errors.AddRange(spec.Validate().Where(e => !parsedFields.Contains(Field(e))));
        if (errors.Count == 0)
        {
            try
            {
                StrategyFactory.Create(new StrategySpec(spec.Strategy.Name, spec.Strategy.Params));
                RoundAggregation.CheckVerifiable(spec);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                errors.Add(ex.Message.Replace(" (Parameter 'spec')", "", StringComparison.Ordinal));
            }
        }
        return (errors.Count == 0 ? spec : null, errors);
    }

    /// <summary>The field an error names: the text before its first colon ("training.lr: must be ..." → "training.lr").</summary>
    public static string Field(string error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var colon = error.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? "" : error[..colon];
        return field.StartsWith("strategy.param", StringComparison.Ordinal) ? "strategy.params" : field;
    }

    private static int Int(string text, string field, List<string> errors) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : Bad(field, "a whole number", text, errors, 1);

    private static uint UInt(string text, string field, List<string> errors) =>
        uint.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : Bad(field, "a whole number >= 0", text, errors, 1u);

    private static long Long(string text, string field, List<string> errors) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : Bad(field, "a whole number of bytes", text, errors, 1L);

    private static double Double(string text, string field, List<string> errors) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : Bad(field, "a number", text, errors, 1.0);

    private static double? OptionalDouble(string text, string field, List<string> errors) =>
        string.IsNullOrWhiteSpace(text) ? null : Double(text, field, errors);

    private static T Bad<T>(string field, string rule, string text, List<string> errors, T placeholder)
    {
        errors.Add($"{field}: must be {rule}, got '{text}'");
        return placeholder;
    }
}
