using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using Skein.Core;
using Skein.Learning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Skein.Learning.Models;

/// <summary>
/// A TorchSharp model together with its fixed parameter layout, with copies to and from the flat float32
/// vector on which aggregation works and from which safetensors files are written.
/// </summary>
public sealed class TorchModel : IDisposable
{
    private readonly TorchSharp.Modules.Parameter[] _parameters;

    private TorchModel(ModelKind kind, nn.Module<Tensor, Tensor> module)
    {
        Kind = kind;
        Module = module;
        var named = module.named_parameters().ToArray();
        _parameters = named.Select(p => p.parameter).ToArray();
        Layout = new ParameterLayout(named.Select(p => new ParameterSpec(p.name, p.parameter.shape)).ToArray());
    }

    public ModelKind Kind { get; }

    public nn.Module<Tensor, Tensor> Module { get; }

    public ParameterLayout Layout { get; }

    /// <summary>
    /// Examples per forward pass when testing. A batch's activations are all alive until it ends: for the CNN, 1,000
    /// images held some 200 MB of them (its first convolution's output alone is 100 MB) and ran five times slower
    /// than batches of 100, which stay in the caches. The MLPs' activations are small at any size.
    /// </summary>
    public int EvaluationBatchSize => Kind == ModelKind.Cnn ? 100 : 1000;

    /// <summary>Input features per example (a flattened 28x28 image).</summary>
    public const int InputFeatures = 784;

    /// <summary>Builds the architecture; its parameters are then set from a flat vector (see <see cref="InitialParameters"/>).</summary>
    public static TorchModel Create(ModelKind kind)
    {
        TorchRuntime.EnsureInitialized();
        nn.Module<Tensor, Tensor> module = kind switch
        {
            ModelKind.LogReg => nn.Sequential(("fc", nn.Linear(InputFeatures, 10))),
            ModelKind.Mlp2NN => nn.Sequential(
                ("fc1", nn.Linear(InputFeatures, 200)),
                ("relu1", nn.ReLU()),
                ("fc2", nn.Linear(200, 200)),
                ("relu2", nn.ReLU()),
                ("fc3", nn.Linear(200, 10))),
            ModelKind.Cnn => nn.Sequential(
                ("unflatten", nn.Unflatten(1, [1, 28, 28])),
                ("conv1", nn.Conv2d(1, 32, 5, padding: 2)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(32, 64, 5, padding: 2)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(7 * 7 * 64, 512)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(512, 10))),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return new TorchModel(kind, module);
    }

    /// <summary>
    /// PyTorch's default initialisation (uniform in +-1/sqrt(fan_in) for weights and biases of linear and conv
    /// layers), drawn from a seeded generator of ours rather than libtorch's, so that anyone can recompute the
    /// initial model from the seed without libtorch.
    /// </summary>
    public static float[] InitialParameters(ParameterLayout layout, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var flat = new float[layout.TotalCount];
        var rng = DeterministicRandom.Derive(seed, "model/init");
        for (var i = 0; i < layout.Parameters.Count; i++)
        {
            var p = layout.Parameters[i];
            // A bias shares its layer's fan-in: the preceding weight's product of all but the first dimension.
            var weightShape = p.Shape.Count > 1 ? p.Shape : layout.Parameters[i - 1].Shape;
            var fanIn = weightShape.Skip(1).Aggregate(1L, (a, b) => a * b);
            var bound = 1.0 / Math.Sqrt(fanIn);
            var span = flat.AsSpan(layout.OffsetOf(i), (int)p.ElementCount);
            for (var j = 0; j < span.Length; j++)
            {
                span[j] = (float)(((2 * rng.NextDouble()) - 1) * bound);
            }
        }
        return flat;
    }

    /// <summary>Overwrites the parameters with <paramref name="flat"/> (layout order).</summary>
    public void Load(ReadOnlySpan<float> flat)
    {
        CheckLength(flat.Length);
        var offset = 0;
        foreach (var p in _parameters)
        {
            var n = (int)p.numel();
            var target = MemoryMarshal.Cast<byte, float>(p.bytes);
            flat.Slice(offset, n).CopyTo(target);
            offset += n;
        }
    }

    /// <summary>Copies the parameters into <paramref name="flat"/> (layout order).</summary>
    public void CopyTo(Span<float> flat)
    {
        CheckLength(flat.Length);
        var offset = 0;
        foreach (var p in _parameters)
        {
            var source = MemoryMarshal.Cast<byte, float>(p.bytes);
            source.CopyTo(flat.Slice(offset, source.Length));
            offset += source.Length;
        }
    }

    /// <summary>
    /// delta = parameters - <paramref name="reference"/> (layout order), read straight from the parameters' storage:
    /// one pass instead of a copy then a subtraction, with the same bits.
    /// </summary>
    public void SubtractTo(ReadOnlySpan<float> reference, Span<float> delta)
    {
        CheckLength(reference.Length);
        CheckLength(delta.Length);
        var offset = 0;
        foreach (var p in _parameters)
        {
            var source = MemoryMarshal.Cast<byte, float>(p.bytes);
            TensorPrimitives.Subtract(source, reference.Slice(offset, source.Length), delta.Slice(offset, source.Length));
            offset += source.Length;
        }
    }

    public float[] ToFlat()
    {
        var flat = new float[Layout.TotalCount];
        CopyTo(flat);
        return flat;
    }

    public IEnumerable<TorchSharp.Modules.Parameter> Parameters => _parameters;

    public void Dispose() => Module.Dispose();

    private void CheckLength(int length)
    {
        if (length != Layout.TotalCount)
        {
            throw new ArgumentException($"{Kind.ToName()} has {Layout.TotalCount} parameters, got a vector of {length}");
        }
    }
}
