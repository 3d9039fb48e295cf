using System.Text;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Models;

namespace Skein.Learning.Tasks;

/// <summary>
/// What a task's rounds exchange: for a vision task the whole model, for a fine-tuning task the LoRA adapter only
/// (its base stays frozen and is named by hash). Coordinator, nodes and verifiers all take the layout from here.
/// </summary>
public static class TaskModels
{
    /// <summary>The layout of the task's global model and of every update (the adapter's, when fine-tuning).</summary>
    public static ParameterLayout Layout(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.IsFineTuning)
        {
            return Lora(spec).Layout(Language(spec));
        }
        return ModelNames.TryParse(spec.Model, out var kind) ? ModelLayouts.For(kind) : throw new FormatException($"model: unknown '{spec.Model}'");
    }

    /// <summary>Round 1's global model: seeded vision weights, or the adapter's seeded A with B at zero (the base, unchanged).</summary>
    public static float[] InitialParameters(TaskSpec spec, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.IsFineTuning ? Lora(spec).InitialParameters(Language(spec), seed) : TorchModel.InitialParameters(Layout(spec), seed);
    }

    /// <summary>The architecture of a fine-tuning task's base.</summary>
    public static TransformerConfig Language(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return TransformerConfig.TryParse(spec.Model, out var config) ? config : throw new FormatException($"model: '{spec.Model}' is not a language model");
    }

    /// <summary>The adapter of a fine-tuning task: exact mode freezes A (FFA-LoRA), so that averaging B is exact.</summary>
    public static LoraConfig Lora(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var adapter = spec.Model.Adapter ?? throw new FormatException("model.adapter: is required for fine-tuning");
        return new LoraConfig(adapter.Rank, adapter.Alpha, adapter.Targets) { FreezeA = adapter.Mode == "exact" };
    }

    /// <summary>The rules that need the architecture (max_params), naming the field; null when all hold.</summary>
    public static string? CheckLimits(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.IsFineTuning || spec.MaxParams is not { } max)
        {
            return null;
        }
        var count = Layout(spec).TotalCount;
        return count > max ? $"max_params: the adapter (rank {spec.Model.Adapter!.Rank}, {spec.Model.Adapter.Targets.Count} target(s)) has {count:N0} parameters, above max_params {max:N0}" : null;
    }

    /// <summary>
    /// In exact mode A is frozen, so an honest update leaves every <c>lora_A</c> unchanged; one that moves A is
    /// not what the task asked for (and would make the average inexact). Returns why, naming the tensor, or null.
    /// </summary>
    public static string? CheckFrozen(TaskSpec spec, ReadOnlySpan<float> delta)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.IsFineTuning || spec.Model.Adapter?.Mode != "exact")
        {
            return null;
        }
        var layout = Layout(spec);
        for (var i = 0; i < layout.Parameters.Count; i++)
        {
            var p = layout.Parameters[i];
            if (p.Name.EndsWith(".lora_A", StringComparison.Ordinal) && delta.Slice(layout.OffsetOf(i), (int)p.ElementCount).ContainsAnyExcept(0f))
            {
                return $"{p.Name}: must not change in exact mode (A is frozen; only lora_B trains)";
            }
        }
        return null;
    }

    /// <summary>Documents joined as one training stream (UTF-8, a blank line between documents).</summary>
    public static byte[] JoinText(IEnumerable<string> documents) => Encoding.UTF8.GetBytes(string.Join("\n\n", documents));
}
