using Skein.Learning.Data;
using static TorchSharp.torch;

namespace Skein.Learning.Training;

/// <summary>One client's examples as tensors (features [n, d] float32, labels [n] int64), built once and reused.</summary>
public sealed class ClientData : IDisposable
{
    /// <param name="source">The examples to take from.</param>
    /// <param name="indices">Which examples this client holds.</param>
    /// <param name="labelMap">Optional relabelling (label -> label), used to simulate label-flipping clients.</param>
    public ClientData(LabeledImages source, ReadOnlySpan<int> indices, IReadOnlyList<byte>? labelMap = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        TorchRuntime.EnsureInitialized();
        var d = source.FeatureCount;
        var features = new float[indices.Length * d];
        var labels = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            source.Features.AsSpan(indices[i] * d, d).CopyTo(features.AsSpan(i * d));
            var label = source.Labels[indices[i]];
            labels[i] = labelMap is null ? label : labelMap[label];
        }
        Features = tensor(features, [indices.Length, d]);
        Labels = tensor(labels);
        Count = indices.Length;
    }

    public Tensor Features { get; }

    public Tensor Labels { get; }

    public int Count { get; }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}
