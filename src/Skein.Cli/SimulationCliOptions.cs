using System.CommandLine;
using System.Globalization;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Aggregation;
using Skein.Simulation;
using Skein.Simulation.Attacks;

namespace Skein.Cli;

/// <summary>The runner's options as command-line options, with the defaults a command chooses.</summary>
public sealed class SimulationCliOptions
{
    public SimulationCliOptions(SimulationOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        Model = new Option<string>("--model")
        {
            Description = "Model: logreg, 2nn (784-200-200-10) or cnn (McMahan et al. 2017)",
            DefaultValueFactory = _ => defaults.Model.ToName(),
            HelpName = "name",
        };
        OneOf(Model, ModelNames.All);
        Clients = IntOption("--clients", "K: clients the training set is split among", defaults.Clients);
        Fraction = DoubleOption("--fraction", "C: fraction of clients sampled each round, in (0, 1]", defaults.Fraction);
        Rounds = IntOption("--rounds", "R: communication rounds", defaults.Rounds);
        Epochs = IntOption("--epochs", "E: local epochs per round", defaults.LocalEpochs);
        BatchSize = IntOption("--batch-size", "B: local minibatch size", defaults.BatchSize);
        LearningRate = DoubleOption("--lr", "Local SGD learning rate", defaults.LearningRate);
        LearningRateDecay = DoubleOption("--lr-decay", "Per-round decay of the learning rate: round r uses lr * decay^(r-1)", defaults.LearningRateDecay);
        Partition = new Option<string>("--partition")
        {
            Description = "How data is split: iid, shards (2 label-sorted shards per client) or dirichlet",
            DefaultValueFactory = _ => defaults.Partition.ToString().ToLowerInvariant(),
            HelpName = "kind",
        };
        OneOf(Partition, ["iid", "shards", "dirichlet"]);
        Alpha = DoubleOption("--alpha", "Dirichlet concentration for --partition dirichlet", defaults.DirichletAlpha);
        Seed = new Option<ulong>("--seed") { Description = "Seed for partition, sampling, initialisation and shuffles", DefaultValueFactory = _ => defaults.Seed };
        Parallelism = IntOption("--parallelism", "Clients trained at once (default: the core count)", defaults.Parallelism);
        EvaluateEvery = IntOption("--eval-every", "Test the global model every N rounds and after the last (default 1: every round)", defaults.EvaluateEvery);
        Target = new Option<double?>("--target")
        {
            Description = "Target test accuracy; the first round that reaches it is reported",
            DefaultValueFactory = _ => defaults.TargetAccuracy,
        };
        StopAtTarget = new Option<bool>("--stop-at-target") { Description = "End the run at the first round that reaches --target" };
        Strategy = new Option<string>("--strategy")
        {
            Description = "Aggregation strategy: fedavg, fedprox, fedavgm, fedadagrad, fedadam, fedyogi, median, trimmed_mean, krum, multikrum, bulyan, dpfedavg (docs/strategies.md)",
            DefaultValueFactory = _ => defaults.Strategy.Name,
            HelpName = "name",
        };
        StrategyParams = new Option<string[]>("--strategy-param")
        {
            Description = "A strategy parameter as name=value, e.g. --strategy-param beta=0.2 (repeatable)",
            HelpName = "name=value",
            AllowMultipleArgumentsPerToken = false,
        };
        Attack = new Option<string?>("--attack") { Description = "Make some clients malicious: label_flip, sign_flip, gaussian, scaled or free_rider", HelpName = "type" };
        AttackFraction = DoubleOption("--attack-fraction", "Fraction of clients that are malicious", 0.3);
        AttackParams = new Option<string[]>("--attack-param") { Description = "An attack parameter as name=value, e.g. scale=4, sigma=1, stale=1 (repeatable)", HelpName = "name=value" };
    }

    public Option<string> Strategy { get; }
    public Option<string[]> StrategyParams { get; }
    public Option<string?> Attack { get; }
    public Option<double> AttackFraction { get; }
    public Option<string[]> AttackParams { get; }

    public Option<string> Model { get; }
    public Option<int> Clients { get; }
    public Option<double> Fraction { get; }
    public Option<int> Rounds { get; }
    public Option<int> Epochs { get; }
    public Option<int> BatchSize { get; }
    public Option<double> LearningRate { get; }
    public Option<double> LearningRateDecay { get; }
    public Option<string> Partition { get; }
    public Option<double> Alpha { get; }
    public Option<ulong> Seed { get; }
    public Option<int> Parallelism { get; }
    public Option<int> EvaluateEvery { get; }
    public Option<double?> Target { get; }
    public Option<bool> StopAtTarget { get; }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var o in new Option[] { Model, Clients, Fraction, Rounds, Epochs, BatchSize, LearningRate, LearningRateDecay, Partition, Alpha, Seed, Parallelism, EvaluateEvery, Target, StopAtTarget, Strategy, StrategyParams, Attack, AttackFraction, AttackParams })
        {
            command.Add(o);
        }
    }

    public SimulationOptions Bind(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (!ModelNames.TryParse(parse.GetValue(Model), out var model))
        {
            throw new InvalidOperationException("--model was accepted by the parser but is not a known model");
        }
        var partition = Enum.Parse<PartitionKind>(parse.GetValue(Partition)!, ignoreCase: true);
        return new SimulationOptions
        {
            Model = model,
            Clients = parse.GetValue(Clients),
            Fraction = parse.GetValue(Fraction),
            Rounds = parse.GetValue(Rounds),
            LocalEpochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            LearningRate = parse.GetValue(LearningRate),
            LearningRateDecay = parse.GetValue(LearningRateDecay),
            Partition = partition,
            DirichletAlpha = parse.GetValue(Alpha),
            Seed = parse.GetValue(Seed),
            Parallelism = parse.GetValue(Parallelism),
            EvaluateEvery = parse.GetValue(EvaluateEvery),
            TargetAccuracy = parse.GetValue(Target),
            StopAtTarget = parse.GetValue(StopAtTarget),
            Strategy = new StrategySpec(parse.GetValue(Strategy)!, ParsePairs("--strategy-param", parse.GetValue(StrategyParams))),
            Attack = parse.GetValue(Attack) is { } attack
                ? AttackOptions.Parse(attack, parse.GetValue(AttackFraction), ParsePairs("--attack-param", parse.GetValue(AttackParams)))
                : null,
        };
    }

    private static Dictionary<string, double> ParsePairs(string option, string[]? pairs)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !double.TryParse(pair[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new ArgumentException($"{option}: expected name=number, got '{pair}'");
            }
            result[pair[..eq].Trim()] = value;
        }
        return result;
    }

    /// <summary>Like AcceptOnlyFromAmong, but the error names the option as well as the value.</summary>
    private static void OneOf(Option<string> option, IReadOnlyList<string> allowed)
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                result.AddError($"{option.Name} must be one of {string.Join(", ", allowed)}; got '{value}'");
            }
        });
        option.CompletionSources.Add(allowed.ToArray());
    }

    private static Option<int> IntOption(string name, string description, int defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static Option<double> DoubleOption(string name, string description, double defaultValue) =>
        new(name) { Description = description + $" (default {defaultValue.ToString(CultureInfo.InvariantCulture)})", DefaultValueFactory = _ => defaultValue };
}
