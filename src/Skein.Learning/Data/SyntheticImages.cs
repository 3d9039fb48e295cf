using Skein.Core;

namespace Skein.Learning.Data;

/// <summary>
/// MNIST-shaped synthetic data for tests and smoke runs: 784 uniform-noise features per example, and each
/// class adds <c>signal</c> to its own block of features, so the classes are linearly separable.
/// </summary>
public static class SyntheticImages
{
    public static LabeledImages Create(int count, ulong seed, float signal = 1f, int blockSize = 40)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize * 10, 784);
        var rng = DeterministicRandom.Derive(seed, "synthetic");
        var features = new float[count * 784];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var label = rng.NextInt(10);
            labels[i] = (byte)label;
            var row = features.AsSpan(i * 784, 784);
            for (var j = 0; j < row.Length; j++)
            {
                row[j] = (float)(rng.NextDouble() - 0.5);
            }
            foreach (ref var v in row.Slice(label * blockSize, blockSize))
            {
                v += signal;
            }
        }
        return new LabeledImages(features, labels, 784, 10);
    }

    /// <summary>
    /// Writes an MNIST-shaped IDX pair (<c>{prefix}-images-idx3-ubyte</c>, <c>{prefix}-labels-idx1-ubyte</c>): noisy
    /// pixels where digit k brightens its own band of 30 pixels a little, learnable but never trivially so.
    /// </summary>
    public static void WriteIdxFiles(string folder, string prefix, int count, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        var rng = DeterministicRandom.Derive(seed, "synthetic/idx");
        var pixels = new byte[count * 784];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var k = rng.NextInt(10);
            labels[i] = (byte)k;
            var row = pixels.AsSpan(i * 784, 784);
            for (var j = 0; j < row.Length; j++)
            {
                row[j] = (byte)rng.NextInt(160);
            }
            foreach (ref var p in row.Slice(k * 70, 30))
            {
                p = (byte)Math.Min(255, p + 90);
            }
        }
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), IdxFile.Encode([count, 28, 28], pixels));
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), IdxFile.Encode([count], labels));
    }
}
