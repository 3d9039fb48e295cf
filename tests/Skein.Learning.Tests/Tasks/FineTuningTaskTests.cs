using System.Numerics.Tensors;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Tasks;
using Skein.Learning.Tests.Language;

namespace Skein.Learning.Tests.Tasks;

public sealed class FineTuningTaskTests
{
    private static TaskSpec Spec(string baseHash, string mode = "exact", string extra = "") => TaskSpec.Parse($$"""
        {
          "name": "ft", "model": { "name": "transformer-tiny", "base": "{{baseHash}}", "adapter": { "rank": 8, "alpha": 16, "mode": "{{mode}}" } },
          "data": { "dataset": "text" }, "training": { "batch_size": 4, "lr": 0.01, "steps": 12 }, "validation": { "score": "bpc" },
          "rounds": 2, "trainers_per_round": 2, "reward_pool": "10"{{extra}}
        }
        """);

    private static byte[] BaseBytes(ulong seed = 3) => TransformerConfig.Tiny.Layout().ToSafeTensors(TransformerConfig.Tiny.InitialParameters(seed));

    [Fact]
    public void A_fine_tuning_task_exchanges_the_adapter_not_the_model()
    {
        var spec = Spec(new string('0', 64));
        var layout = TaskModels.Layout(spec);
        // 2 blocks x 4 targets, each A [8, in] and B [out, 8], on width 64.
        Assert.Equal(2 * 8 * ((64 + 192) + (64 + 64) + (64 + 256) + (256 + 64)), layout.TotalCount);
        Assert.Equal("h.0.attn.c_attn.lora_A", layout.Parameters[0].Name);
        var initial = TaskModels.InitialParameters(spec, 1);
        Assert.Equal(initial, TaskModels.InitialParameters(spec, 1));
        Assert.True(initial.AsSpan(layout.OffsetOf(1), (int)layout.Parameters[1].ElementCount).IndexOfAnyExcept(0f) < 0, "B starts at zero");
        Assert.True(initial.AsSpan(0, (int)layout.Parameters[0].ElementCount).IndexOfAnyExcept(0f) >= 0, "A starts seeded");
    }

    [Fact]
    public void Max_params_is_checked_against_the_architecture()
    {
        var hash = new string('0', 64);
        Assert.Null(TaskModels.CheckLimits(Spec(hash, extra: ", \"max_params\": 16384")));
        var error = TaskModels.CheckLimits(Spec(hash, extra: ", \"max_params\": 16383"));
        Assert.StartsWith("max_params: the adapter (rank 8, 4 target(s)) has 16,384 parameters, above max_params 16,383", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Exact_mode_refuses_an_update_that_moves_a_frozen_A()
    {
        var spec = Spec(new string('0', 64));
        var layout = TaskModels.Layout(spec);
        var delta = new float[layout.TotalCount];
        delta[layout.OffsetOf(1)] = 0.5f;
        Assert.Null(TaskModels.CheckFrozen(spec, delta));
        delta[layout.OffsetOf(2) + 3] = 1e-6f;
        Assert.Equal("h.0.attn.c_proj.lora_A: must not change in exact mode (A is frozen; only lora_B trains)", TaskModels.CheckFrozen(spec, delta));
        Assert.Null(TaskModels.CheckFrozen(Spec(new string('0', 64), "plain"), delta));
    }

    [Fact]
    public void The_workbench_refuses_a_base_that_is_not_the_one_the_task_names()
    {
        var bytes = BaseBytes();
        var ex = Assert.Throws<FormatException>(() => FineTuningWorkbench.Open(Spec(new string('0', 64)), bytes));
        Assert.Contains("model.base: the task names 0000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validators_score_a_helpful_update_above_an_idle_one_and_reject_a_poisoned_or_broken_one()
    {
        // A base that has seen a little of the text, as a pretrained base has: near it, a sign-flipped update hurts.
        var text = TransformerTests.RepetitiveText(6_000);
        byte[] baseBytes;
        using (var pretrained = TransformerModel.Create(TransformerConfig.Tiny))
        {
            pretrained.Load(TransformerConfig.Tiny.InitialParameters(3));
            LanguageTrainer.Train(pretrained, text, new LanguageTrainingOptions(20, 8, 1e-2), 3, TestContext.Current.CancellationToken);
            baseBytes = TransformerConfig.Tiny.Layout().ToSafeTensors(pretrained.ToFlat());
        }
        var parsed = Spec(Hashing.Sha256Hex(baseBytes));
        var spec = parsed with { Training = parsed.Training with { Lr = 0.05, Steps = 30, BatchSize = 16 } };
        using var bench = FineTuningWorkbench.Open(spec, baseBytes);
        var global = TaskModels.InitialParameters(spec, 1);
        var (delta, result) = bench.Train(global, text, 1, 7, TestContext.Current.CancellationToken);
        Assert.Equal(30, result.Steps);
        Assert.Null(TaskModels.CheckFrozen(spec, delta));
        var signFlipped = delta.Select(v => -4 * v).ToArray();
        var broken = delta.ToArray();
        broken[^1] = float.NaN;
        var scores = bench.Score(global, [delta, new float[delta.Length], signFlipped, broken, new float[3]], text.AsSpan(0, 2_000), TestContext.Current.CancellationToken);
        Assert.True(scores[0] > 0.76 && scores[2] < 0.5, string.Join(", ", scores));
        Assert.Equal(0.75, scores[1], 9);
        Assert.Equal(0, scores[3]);
        Assert.Equal(0, scores[4]);
    }

    [Theory]
    [InlineData(3.0, 3.0, 0.75)]
    [InlineData(3.0, 2.7, 1.0)]
    [InlineData(3.0, 3.3, 0.5)]
    [InlineData(3.0, 2.85, 0.875)]
    [InlineData(3.0, 12.0, 0.0)]
    [InlineData(3.0, double.NaN, 0.0)]
    [InlineData(double.PositiveInfinity, 3.0, 0.0)]
    public void The_bpc_score_maps_relative_improvement_to_zero_to_one(double global, double candidate, double expected) =>
        Assert.Equal(expected, BpcScore.Compute(global, candidate), 9);

    [Fact]
    public void Bits_per_byte_also_counts_top1_next_byte_hits()
    {
        var bytes = BaseBytes();
        var spec = Spec(Hashing.Sha256Hex(bytes));
        using var bench = FineTuningWorkbench.Open(spec, bytes);
        var text = TransformerTests.RepetitiveText(3_000);
        var global = TaskModels.InitialParameters(spec, 1);
        var before = bench.Bpc(global, text, TestContext.Current.CancellationToken);
        var (delta, _) = bench.Train(global, text, 1, 7, TestContext.Current.CancellationToken);
        TensorPrimitives.Add(delta, global, delta);
        var after = bench.Bpc(delta, text, TestContext.Current.CancellationToken);
        Assert.Equal(2_999, after.BytesScored);
        Assert.InRange(before.Accuracy, 0, 0.2);
        Assert.True(after.Accuracy > before.Accuracy, $"next-byte accuracy {before.Accuracy} -> {after.Accuracy}");
        Assert.True(after.BitsPerByte < before.BitsPerByte);
    }
}
