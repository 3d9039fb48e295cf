using System.Text;
using CsCheck;
using Skein.Core;

namespace Skein.Fuzz.Targets;

/// <summary>Task specs: <see cref="TaskSpec.Parse"/>, which nodes run on the spec JSON a coordinator sends and coordinators on the files creators give.</summary>
internal static class TaskSpecTarget
{
    private const string Base = "3f1c0a6a2b1e4d5c8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e";

    private static readonly string[] Keys =
    [
        "name", "model", "base", "adapter", "kind", "rank", "alpha", "targets", "mode", "data", "dataset", "partition", "strategy", "params",
        "training", "epochs", "batch_size", "lr", "lr_decay", "steps", "validation", "score", "rounds", "trainers_per_round",
        "validators_per_round", "reward_pool", "min_stake", "max_update_bytes", "max_params", "reject_below",
    ];

    private static readonly string[] Words =
    [
        "2nn", "cnn", "logreg", "transformer-tiny", "transformer-small", "mnist", "sotu", "text", "iid", "shards", "dirichlet", "fedavg",
        "trimmed_mean", "accuracy", "cohort", "bpc", "lora", "exact", "plain", "attn.c_attn", "mlp.c_fc", "attn.c_proj", "mlp.c_proj",
    ];

    public static FuzzTarget Create() => new()
    {
        Name = "taskspec",
        Description = "TaskSpec.Parse: a task spec (JSON) and its validation, then its hash and a round trip",
        Seeds = [.. new[] { Vision, FineTuning, """{ "name": "m", "model": "2nn", "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""" }.Select(Encoding.UTF8.GetBytes)],
        Dictionary = FuzzText.Of(FuzzText.Json, FuzzText.JsonKeys(Keys), Words.Select(w => $"\"{w}\"")),
        Generate = rng => Encoding.UTF8.GetBytes(Generate(rng)),
        Run = input =>
        {
            TaskSpec spec;
            try
            {
                spec = TaskSpec.Parse(FuzzText.Text(input));
            }
            catch (FormatException)
            {
                return FuzzOutcome.Refused;
            }
            // What a coordinator does with an accepted spec: hash it for the ledger, and send it on as JSON that must parse again.
            var hash = spec.Sha256();
            var again = TaskSpec.Parse(System.Text.Json.JsonSerializer.Serialize(spec, TaskSpec.JsonOptions));
            if (again.Sha256() != hash)
            {
                throw new FuzzInvariantException("the spec written back hashes differently");
            }
            return FuzzOutcome.Accepted;
        },
    };

    private const string Vision = """
        {
          "name": "mnist-cnn",
          "model": "cnn",
          "data": { "dataset": "mnist", "partition": "dirichlet", "alpha": 0.5 },
          "strategy": { "name": "trimmed_mean", "params": { "beta": 0.2, "clip_norm": 5 } },
          "training": { "epochs": 1, "batch_size": 10, "lr": 0.05, "lr_decay": 0.99 },
          "rounds": 25,
          "trainers_per_round": 10,
          "validators_per_round": 3,
          "reward_pool": "1000",
          "min_stake": "10.5",
          "max_update_bytes": 1000000,
          "reject_below": 0.5
        }
        """;

    private const string FineTuning = $$"""
        {
          "name": "sotu-lora",
          "model": { "name": "transformer-tiny", "base": "{{Base}}", "adapter": { "kind": "lora", "rank": 4, "alpha": 8, "targets": ["attn.c_attn", "mlp.c_fc"], "mode": "exact" } },
          "data": { "dataset": "sotu" },
          "training": { "batch_size": 16, "lr": 0.003, "steps": 40 },
          "validation": { "score": "bpc" },
          "rounds": 8,
          "trainers_per_round": 6,
          "reward_pool": "80",
          "max_params": 100000
        }
        """;

    private static readonly Gen<string> Word = Generators.OneOfStrings(Words);
    private static readonly Gen<string> Amount = Gen.Frequency(
        (3, Gen.OneOf("1000", "0", "12.5", "0.000000000000000001", "1.0000000000000000001", "", ".", "1.", "-1", "1e3", "340282366920938463463374607431768211456")
            .Select(s => "\"" + s + "\"")),
        (1, Generators.JsonScalar));

    private static string Generate(DeterministicRandom rng)
    {
        var number = Generators.Of(Generators.JsonScalar);
        var integer = Generators.Of(Generators.JsonInteger);
        string Model(DeterministicRandom r) => r.NextInt(2) == 0
            ? Word.Draw(r)
            : Generators.JsonObject(r,
                ("name", Word.Draw),
                ("base", x => x.NextInt(2) == 0 ? $"\"{Base}\"" : Generators.JsonString.Draw(x)),
                ("adapter", x => Generators.JsonObject(x, ("kind", Word.Draw), ("rank", integer), ("alpha", number),
                    ("targets", Generators.JsonArray(Word, 5).Draw), ("mode", Word.Draw))));
        return Generators.JsonObject(rng,
            ("name", Generators.Of(Generators.JsonString)),
            ("model", Model),
            ("data", r => Generators.JsonObject(r, ("dataset", Word.Draw), ("partition", Word.Draw), ("alpha", number))),
            ("strategy", r => Generators.JsonObject(r, ("name", Word.Draw),
                ("params", x => Generators.JsonObject(x, ("beta", number), ("clip_norm", number), ("f", integer))))),
            ("training", r => Generators.JsonObject(r, ("epochs", integer), ("batch_size", integer), ("lr", number), ("lr_decay", number), ("steps", integer))),
            ("validation", r => Generators.JsonObject(r, ("score", Word.Draw))),
            ("rounds", integer),
            ("trainers_per_round", integer),
            ("validators_per_round", integer),
            ("reward_pool", Amount.Draw),
            ("min_stake", Amount.Draw),
            ("max_update_bytes", integer),
            ("max_params", integer),
            ("reject_below", number));
    }
}
