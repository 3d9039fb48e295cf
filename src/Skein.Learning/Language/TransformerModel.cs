using System.Runtime.InteropServices;
using Skein.Core;
using Skein.Learning.Training;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Skein.Learning.Language;

/// <summary>
/// A decoder-only transformer (byte-level, or an imported GPT-2) with its fixed parameter layout (see <see cref="TransformerConfig.Layout"/>),
/// copied to and from the flat float32 vector used by aggregation and safetensors, and an optional attached
/// LoRA adapter.
/// </summary>
public sealed class TransformerModel : IDisposable
{
    private readonly Parameter[] _parameters;

    private TransformerModel(TransformerConfig config)
    {
        Config = config;
        Module = new ByteTransformer(config);
        var named = Module.named_parameters().ToArray();
        _parameters = named.Select(p => p.parameter).ToArray();
        Layout = new ParameterLayout(named.Select(p => new ParameterSpec(p.name, p.parameter.shape)).ToArray());
    }

    public TransformerConfig Config { get; }

    public ParameterLayout Layout { get; }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The attached adapter, if any; training then updates only its parameters.</summary>
    public LoraAdapter? Adapter { get; private set; }

    internal ByteTransformer Module { get; }

    /// <summary>Builds the architecture with zero parameters; set them with <see cref="Load"/> (e.g. from <see cref="TransformerConfig.InitialParameters"/>).</summary>
    public static TransformerModel Create(TransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(config));
        }
        TorchRuntime.EnsureInitialized();
        return new TransformerModel(config);
    }

    /// <summary>Token ids [batch, time] to logits [batch, time, vocabulary]; the caller owns the result (use a dispose scope).</summary>
    public Tensor Forward(Tensor tokens) => Module.call(tokens);

    /// <summary>Routes the targeted layers through <paramref name="adapter"/>; the base parameters are left as they are.</summary>
    public void Attach(LoraAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (adapter.Model != Config)
        {
            throw new ArgumentException($"the adapter was made for {adapter.Model}, this model is {Config}", nameof(adapter));
        }
        Detach();
        foreach (var (name, linear) in Targets())
        {
            linear.Lora = adapter.SlotFor(name);
        }
        Adapter = adapter;
    }

    public void Detach()
    {
        foreach (var (_, linear) in Targets())
        {
            linear.Lora = null;
        }
        Adapter = null;
    }

    /// <summary>Overwrites the parameters with <paramref name="flat"/> (layout order).</summary>
    public void Load(ReadOnlySpan<float> flat) => FlatCopy.Load(_parameters, Layout, flat);

    /// <summary>Copies the parameters into <paramref name="flat"/> (layout order).</summary>
    public void CopyTo(Span<float> flat) => FlatCopy.CopyTo(_parameters, Layout, flat);

    public float[] ToFlat()
    {
        var flat = new float[Layout.TotalCount];
        CopyTo(flat);
        return flat;
    }

    public void Dispose() => Module.Dispose();

    private IEnumerable<(string Name, AdaptableLinear Linear)> Targets()
    {
        for (var i = 0; i < Module.Blocks.Count; i++)
        {
            var block = Module.Blocks[i];
            yield return ($"h.{i}.attn.c_attn", block.Attention.CAttn);
            yield return ($"h.{i}.attn.c_proj", block.Attention.CProj);
            yield return ($"h.{i}.mlp.c_fc", block.Mlp.CFc);
            yield return ($"h.{i}.mlp.c_proj", block.Mlp.CProj);
        }
    }
}

/// <summary>Copies between parameter tensors (CPU, float32, contiguous) and a flat vector in layout order.</summary>
internal static class FlatCopy
{
    public static void Load(IReadOnlyList<Parameter> parameters, ParameterLayout layout, ReadOnlySpan<float> flat)
    {
        CheckLength(layout, flat.Length);
        var offset = 0;
        foreach (var p in parameters)
        {
            var target = MemoryMarshal.Cast<byte, float>(p.bytes);
            flat.Slice(offset, target.Length).CopyTo(target);
            offset += target.Length;
        }
    }

    public static void CopyTo(IReadOnlyList<Parameter> parameters, ParameterLayout layout, Span<float> flat)
    {
        CheckLength(layout, flat.Length);
        var offset = 0;
        foreach (var p in parameters)
        {
            var source = MemoryMarshal.Cast<byte, float>(p.bytes);
            source.CopyTo(flat.Slice(offset, source.Length));
            offset += source.Length;
        }
    }

    private static void CheckLength(ParameterLayout layout, int length)
    {
        if (length != layout.TotalCount)
        {
            throw new ArgumentException($"the layout has {layout.TotalCount} parameters, got a vector of {length}");
        }
    }
}
