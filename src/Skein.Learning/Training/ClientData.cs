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

    private ClientData(Tensor features, Tensor labels, int count)
    {
        Features = features;
        Labels = labels;
        Count = count;
    }

    /// <summary>
    /// A node's whole folder as tensors, straight from its IDX bytes: the same values as
    /// <see cref="LabeledImages.FromIdx"/> then <see cref="ClientData(LabeledImages, ReadOnlySpan{int}, IReadOnlyList{byte}?)"/>,
    /// without the managed float copy that a node would otherwise hold beside the tensors for its whole life.
    /// </summary>
    public static ClientData FromIdx(IdxArray images, IdxArray labels, string what)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        // The checks and the normalisation are LabeledImages.FromIdx's, so that a model trains bit for bit the same.
        LabeledImages.CheckIdx(images, labels, what);
        TorchRuntime.EnsureInitialized();
        var features = zeros([images.Count, images.ItemSize], ScalarType.Float32);
        var tags = zeros([labels.Count], ScalarType.Int64);
        LabeledImages.Normalize(images.Data, MemoryMarshal.Cast<byte, float>(features.bytes));
        var target = MemoryMarshal.Cast<byte, long>(tags.bytes);
        for (var i = 0; i < labels.Count; i++)
        {
            target[i] = labels.Data[i];
        }
        return new ClientData(features, tags, labels.Count);
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
