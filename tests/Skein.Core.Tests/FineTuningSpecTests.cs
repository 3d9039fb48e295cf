using System.Text.Json;

namespace Skein.Core.Tests;

public sealed class FineTuningSpecTests
{
    private static readonly string Base = new('a', 64);

    private static readonly string Valid = $$"""
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

    [Fact]
    public void A_fine_tuning_spec_parses_with_its_base_and_adapter()
    {
        var spec = TaskSpec.Parse(Valid);
        Assert.True(spec.IsFineTuning);
        Assert.Equal("transformer-tiny", spec.Model.Name);
        Assert.Equal(Base, spec.Model.Base);
        Assert.Equal((4, 8.0, "exact"), (spec.Model.Adapter!.Rank, spec.Model.Adapter.Alpha, spec.Model.Adapter.Mode));
        Assert.Equal(["attn.c_attn", "mlp.c_fc"], spec.Model.Adapter.Targets);
        Assert.Equal(40, spec.Training.StepsOrDefault);
        Assert.Equal(100_000L, spec.MaxParams);
    }

    [Fact]
    public void The_base_is_part_of_the_hash_the_ledger_records()
    {
        var spec = TaskSpec.Parse(Valid);
        var other = TaskSpec.Parse(Valid.Replace(Base, new string('b', 64), StringComparison.Ordinal));
        Assert.NotEqual(spec.Sha256(), other.Sha256());
        // Written back and read again, the spec is the same spec.
        var json = JsonSerializer.Serialize(spec, TaskSpec.JsonOptions);
        Assert.Equal(spec.Sha256(), TaskSpec.Parse(json).Sha256());
        Assert.Contains($"\"base\":\"{Base}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vision_spec_still_writes_its_model_as_a_plain_name()
    {
        var spec = TaskSpec.Parse("""{ "name": "m", "model": "2nn", "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""");
        var json = JsonSerializer.Serialize(spec, TaskSpec.JsonOptions);
        Assert.Contains("\"model\":\"2nn\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("steps", json, StringComparison.Ordinal);
        Assert.DoesNotContain("max_params", json, StringComparison.Ordinal);
        Assert.False(spec.IsFineTuning);
    }

    [Theory]
    [InlineData("\"base\": \"AAAA\"", "\"base\": \"xyz\"", "model.base: must be the base model's SHA-256 (64 lowercase hex digits")]
    [InlineData("\"rank\": 4", "\"rank\": 0", "model.adapter.rank: must be in [1, 1024], got 0")]
    [InlineData("\"alpha\": 8", "\"alpha\": -1", "model.adapter.alpha: must be a finite number > 0, got -1")]
    [InlineData("\"mlp.c_fc\"", "\"mlp.c_gate\"", "model.adapter.targets: unknown layer 'mlp.c_gate'")]
    [InlineData("\"mlp.c_fc\"", "\"attn.c_attn\"", "model.adapter.targets: a layer is listed twice")]
    [InlineData("\"mode\": \"exact\"", "\"mode\": \"fancy\"", "model.adapter.mode: must be exact or plain; got 'fancy'")]
    [InlineData("\"kind\": \"lora\"", "\"kind\": \"ia3\"", "model.adapter.kind: only 'lora' is supported; got 'ia3'")]
    [InlineData("\"dataset\": \"sotu\"", "\"dataset\": \"mnist\"", "data.dataset: a transformer-tiny task trains on text (sotu, text); got 'mnist'")]
    [InlineData("\"score\": \"bpc\"", "\"score\": \"accuracy\"", "validation.score: a transformer-tiny task is scored by 'bpc'; got 'accuracy'")]
    [InlineData("\"steps\": 40", "\"steps\": 0", "training.steps: must be in [1, 100000], got 0")]
    [InlineData("\"max_params\": 100000", "\"max_params\": 0", "max_params: must be >= 1, got 0")]
    [InlineData(", \"adapter\": { \"kind\": \"lora\", \"rank\": 4, \"alpha\": 8, \"targets\": [\"attn.c_attn\", \"mlp.c_fc\"], \"mode\": \"exact\" }", "", "model.adapter: is required")]
    public void Malformed_fine_tuning_specs_name_the_field_and_the_rule(string find, string replace, string expected)
    {
        var json = Valid.Replace("AAAA", Base, StringComparison.Ordinal);
        find = find.Replace("AAAA", Base, StringComparison.Ordinal);
        Assert.Contains(find, json, StringComparison.Ordinal);
        var ex = Assert.Throws<FormatException>(() => TaskSpec.Parse(json.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "name": "m", "model": { "name": "2nn", "base": "0000000000000000000000000000000000000000000000000000000000000000" }, "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""", "model.base, model.adapter: only fine-tuning tasks")]
    [InlineData("""{ "name": "m", "model": "2nn", "validation": { "score": "bpc" }, "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""", "validation.score: 'bpc' scores language models")]
    [InlineData("""{ "name": "m", "model": "2nn", "max_params": 5, "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""", "max_params: applies to fine-tuning tasks only")]
    [InlineData("""{ "name": "m", "model": 7, "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""", "model: must be a name")]
    [InlineData("""{ "name": "m", "model": "transformer-tiny", "rounds": 1, "trainers_per_round": 1, "reward_pool": "1" }""", "model.base: must be the base model's SHA-256")]
    public void Vision_and_language_fields_do_not_mix(string json, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => TaskSpec.Parse(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
