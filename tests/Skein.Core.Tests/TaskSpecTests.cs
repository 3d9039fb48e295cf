using Skein.Core;

namespace Skein.Core.Tests;

public sealed class TaskSpecTests
{
    private const string Valid = """
        {
          "name": "mnist-cnn",
          "model": "cnn",
          "data": { "dataset": "mnist", "partition": "dirichlet", "alpha": 0.5 },
          "strategy": { "name": "trimmed_mean", "params": { "beta": 0.2, "clip_norm": 5 } },
          "training": { "epochs": 1, "batch_size": 10, "lr": 0.05 },
          "rounds": 25,
          "trainers_per_round": 10,
          "validators_per_round": 3,
          "reward_pool": "1000",
          "min_stake": "10",
          "reject_below": 0.5
        }
        """;

    [Fact]
    public void A_valid_spec_parses()
    {
        var spec = TaskSpec.Parse(Valid);
        Assert.Equal("cnn", spec.Model);
        Assert.Equal(0.2, spec.Strategy.Params["beta"]);
        Assert.Equal(25u, spec.Rounds);
    }

    [Fact]
    public void The_hash_ignores_formatting_and_parameter_order_but_not_content()
    {
        var a = TaskSpec.Parse(Valid).Sha256();
        var reordered = Valid.Replace("\"beta\": 0.2, \"clip_norm\": 5", "\"clip_norm\": 5, \"beta\": 0.2", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        Assert.Equal(a, TaskSpec.Parse(reordered).Sha256());
        Assert.NotEqual(a, TaskSpec.Parse(Valid.Replace("\"rounds\": 25", "\"rounds\": 26", StringComparison.Ordinal)).Sha256());
        Assert.Equal(64, a.Length);
    }

    [Theory]
    [InlineData("\"model\": \"cnn\"", "\"model\": \"resnet\"", "model: must be one of logreg, 2nn, cnn, transformer-tiny, transformer-small; got 'resnet'")]
    [InlineData("\"batch_size\": 10", "\"batch_size\": 0", "training.batch_size: must be in [1, 100000], got 0")]
    [InlineData("\"rounds\": 25", "\"rounds\": 0", "rounds: must be in [1, 100000], got 0")]
    [InlineData("\"reward_pool\": \"1000\"", "\"reward_pool\": \"0\"", "reward_pool: must be a positive token amount")]
    [InlineData("\"reward_pool\": \"1000\"", "\"reward_pool\": \"ten\"", "reward_pool: must be a positive token amount")]
    [InlineData("\"min_stake\": \"10\"", "\"min_stake\": \"1.0000000000000000001\"", "min_stake: must be a token amount")]
    [InlineData("\"reject_below\": 0.5", "\"reject_below\": 1.5", "reject_below: must be in [0, 1], got 1.5")]
    [InlineData("\"partition\": \"dirichlet\"", "\"partition\": \"random\"", "data.partition: must be one of")]
    [InlineData("\"alpha\": 0.5", "\"alpha\": -1", "data.alpha: must be a finite number > 0")]
    [InlineData("\"lr\": 0.05", "\"lr\": 0", "training.lr: must be a finite number > 0")]
    [InlineData("\"lr\": 0.05", "\"lr\": 0.05, \"lr_decay\": 1.5", "training.lr_decay: must be in (0, 1], got 1.5")]
    [InlineData("\"name\": \"mnist-cnn\"", "\"name\": \"\"", "name: must be 1 to 100 characters")]
    [InlineData("\"rounds\": 25", "\"rounds\": 25, \"max_update_bytes\": 0", "max_update_bytes: must be between 1 and 17179869184, got 0")]
    [InlineData("\"rounds\": 25", "\"rounds\": 25, \"validation\": { \"score\": \"vibes\" }", "validation.score: must be one of accuracy, cohort, bpc; got 'vibes'")]
    [InlineData("\"rounds\": 25", "\"rounds\": 25, \"colour\": \"red\"", "colour")]
    [InlineData("\"rounds\": 25", "\"rounds\": \"many\"", "rounds")]
    public void Malformed_specs_name_the_field_and_the_rule(string find, string replace, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => TaskSpec.Parse(Valid.Replace(find, replace, StringComparison.Ordinal), "task.json"));
        Assert.StartsWith("task.json: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_json_is_a_clear_error()
    {
        Assert.StartsWith("t.json:", Assert.Throws<FormatException>(() => TaskSpec.Parse("{ nope", "t.json")).Message, StringComparison.Ordinal);
        Assert.Contains("no task object", Assert.Throws<FormatException>(() => TaskSpec.Parse("null", "t.json")).Message, StringComparison.Ordinal);
    }
}
