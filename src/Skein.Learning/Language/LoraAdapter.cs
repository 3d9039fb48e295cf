using Skein.Core;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Skein.Learning.Language;

/// <summary>A LoRA adapter's tensors for one model size, with its own flat layout; attach it with <see cref="TransformerModel.Attach"/>.</summary>
public sealed class LoraAdapter : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Dictionary<string, LoraSlot> _slots = new(StringComparer.Ordinal);
    private readonly Scalar _scale;

    private LoraAdapter(TransformerConfig model, LoraConfig config)
    {
        Model = model;
        Config = config;
        Layout = config.Layout(model);
        _parameters = new Parameter[Layout.Parameters.Count];
        _scale = config.Scale.ToScalar();
        var i = 0;
        foreach (var (name, outFeatures, inFeatures) in config.Targeted(model))
        {
            var a = new Parameter(zeros(config.Rank, inFeatures), requires_grad: !config.FreezeA);
            var b = new Parameter(zeros(outFeatures, config.Rank));
            _parameters[i++] = a;
            _parameters[i++] = b;
            _slots[name] = new LoraSlot(a, b, _scale);
        }
    }

    public TransformerConfig Model { get; }

    public LoraConfig Config { get; }

    public ParameterLayout Layout { get; }

    /// <summary>The parameters training updates: B only under <see cref="LoraConfig.FreezeA"/>, else A and B.</summary>
    public IEnumerable<Parameter> Trainable => _parameters.Where(p => p.requires_grad);

    /// <summary>An adapter with zero parameters; set them with <see cref="Load"/> (e.g. from <see cref="LoraConfig.InitialParameters"/>).</summary>
    public static LoraAdapter Create(TransformerConfig model, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if ((config.Validate() ?? model.Validate()) is { } error)
        {
            throw new ArgumentException(error, nameof(config));
        }
        return new LoraAdapter(model, config);
    }

    public void Load(ReadOnlySpan<float> flat) => FlatCopy.Load(_parameters, Layout, flat);

    public void CopyTo(Span<float> flat) => FlatCopy.CopyTo(_parameters, Layout, flat);

    public float[] ToFlat()
    {
        var flat = new float[Layout.TotalCount];
        CopyTo(flat);
        return flat;
    }

    public void Dispose()
    {
        foreach (var p in _parameters)
        {
            p.Dispose();
        }
        _scale.Dispose();
    }

    internal LoraSlot? SlotFor(string name) => _slots.GetValueOrDefault(name);
}
