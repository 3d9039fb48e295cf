using System.Runtime.InteropServices;
using Skein.Learning.Data;
using static TorchSharp.torch;

namespace Skein.Learning.Training;

/// <summary>One client's examples as tensors (features [n, d] float32, labels [n] int64), gathered from a shared set.</summary>
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
        // Gathered straight into the tensors' storage: a client built for one round costs no managed copy.
        Features = zeros([indices.Length, d], ScalarType.Float32);
        Labels = zeros([indices.Length], ScalarType.Int64);
        var features = MemoryMarshal.Cast<byte, float>(Features.bytes);
        var labels = MemoryMarshal.Cast<byte, long>(Labels.bytes);
        for (var i = 0; i < indices.Length; i++)
        {
            source.Features.AsSpan(indices[i] * d, d).CopyTo(features.Slice(i * d, d));
            var label = source.Labels[indices[i]];
            labels[i] = labelMap is null ? label : labelMap[label];
        }
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
