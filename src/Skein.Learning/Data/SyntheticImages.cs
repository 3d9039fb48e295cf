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
}
