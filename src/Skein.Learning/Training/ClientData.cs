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
        _features = zeros([indices.Length, d], ScalarType.Float32);
        Labels = zeros([indices.Length], ScalarType.Int64);
        var features = MemoryMarshal.Cast<byte, float>(_features.bytes);
        var labels = MemoryMarshal.Cast<byte, long>(Labels.bytes);
        for (var i = 0; i < indices.Length; i++)
        {
            source.Features.AsSpan(indices[i] * d, d).CopyTo(features.Slice(i * d, d));
            var label = source.Labels[indices[i]];
            labels[i] = labelMap is null ? label : labelMap[label];
        }
        Count = indices.Length;
    }

    private ClientData(Tensor pixels, Tensor labels, int count)
    {
        _pixels = pixels;
        Labels = labels;
        Count = count;
    }

    /// <summary>
    /// A node's whole folder as tensors, straight from its IDX bytes: the same values as
    /// <see cref="LabeledImages.FromIdx"/> then <see cref="ClientData(LabeledImages, ReadOnlySpan{int}, IReadOnlyList{byte}?)"/>,
    /// held as the pixels' bytes (a quarter of the floats) and normalised a batch at a time with the float operations
    /// of <see cref="LabeledImages.Normalize"/>, so every feature is the same float to the bit and a model trains the same.
    /// </summary>
    public static ClientData FromIdx(IdxArray images, IdxArray labels, string what)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        LabeledImages.CheckIdx(images, labels, what);
        TorchRuntime.EnsureInitialized();
        var pixels = zeros([images.Count, images.ItemSize], ScalarType.Byte);
        images.Data.AsSpan().CopyTo(pixels.bytes);
        var tags = zeros([labels.Count], ScalarType.Int64);
        var target = MemoryMarshal.Cast<byte, long>(tags.bytes);
        for (var i = 0; i < labels.Count; i++)
        {
            target[i] = labels.Data[i];
        }
        return new ClientData(pixels, tags, labels.Count);
    }

    private readonly Tensor? _pixels;

    private Tensor? _features;

    /// <summary>
    /// Every example's features [n, d] float32. For data read from IDX bytes they are built on first use and then
    /// held, four times the pixels' size: training and evaluation take <see cref="Rows"/> and <see cref="Range"/> instead.
    /// </summary>
    public Tensor Features => _features ??= Normalized(_pixels!).DetachFromDisposeScope();

    public Tensor Labels { get; }

    public int Count { get; }

    /// <summary>The features of the rows at <paramref name="index"/> (int64), in that order: a new tensor.</summary>
    public Tensor Rows(Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (_features is not null || _pixels is null)
        {
            return Features.index_select(0, index);
        }
        using var bytes = _pixels.index_select(0, index);
        return Normalized(bytes);
    }

    /// <summary>The features of rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/>.</summary>
    public Tensor Range(int start, int length)
    {
        if (_features is not null || _pixels is null)
        {
            return Features.narrow(0, start, length);
        }
        using var bytes = _pixels.narrow(0, start, length);
        return Normalized(bytes);
    }

    // LabeledImages.Normalize's arithmetic, in libtorch: the pixel as a float, times the scale, minus the shift, each
    // a float32 operation rounded once, as in C#, so every feature is the same float to the bit (ClientDataTests
    // checks all 256 values). In place: a batch costs one float tensor, nothing beside it.
    private static Tensor Normalized(Tensor pixels) =>
        pixels.to(ScalarType.Float32).mul_(LabeledImages.NormalizeScale).sub_(LabeledImages.NormalizeShift);

    public void Dispose()
    {
        _features?.Dispose();
        _pixels?.Dispose();
        Labels.Dispose();
    }
}
