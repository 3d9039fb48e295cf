namespace Skein.Learning.Data;

/// <summary>
/// A labelled image set held in memory: pixels as normalised float32, row-major, <see cref="Features"/> values
/// per example, and one class label per example.
/// </summary>
public sealed class LabeledImages
{
    public LabeledImages(float[] features, byte[] labels, int featureCount, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        if (features.Length != (long)labels.Length * featureCount)
        {
            throw new ArgumentException($"{features.Length} feature values do not make {labels.Length} examples of {featureCount}");
        }
        foreach (var l in labels)
        {
            if (l >= classCount)
            {
                throw new ArgumentException($"label {l} is outside the {classCount} classes");
            }
        }
        Features = features;
        Labels = labels;
        FeatureCount = featureCount;
        ClassCount = classCount;
    }

    public float[] Features { get; }

    public byte[] Labels { get; }

    public int FeatureCount { get; }

    public int ClassCount { get; }

    public int Count => Labels.Length;

    /// <summary>MNIST's training-set mean and standard deviation, the usual normalisation.</summary>
    public const float MnistMean = 0.1307f;

    /// <inheritdoc cref="MnistMean"/>
    public const float MnistStd = 0.3081f;

    /// <summary>Builds a set from IDX images and labels, scaling pixels to [0, 1] then normalising.</summary>
    public static LabeledImages FromIdx(IdxArray images, IdxArray labels, string what)
    {
        CheckIdx(images, labels, what);
        var features = new float[images.Data.Length];
        Normalize(images.Data, features);
        return new LabeledImages(features, labels.Data, images.ItemSize, 10);
    }

    /// <summary>What an image set must be: images [n, rows, columns], n labels, each a digit.</summary>
    public static void CheckIdx(IdxArray images, IdxArray labels, string what)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Dimensions.Count != 3)
        {
            throw new IdxFormatException($"{what} images: expected 3 dimensions (count, rows, columns), found {images.Dimensions.Count}");
        }
        if (labels.Dimensions.Count != 1)
        {
            throw new IdxFormatException($"{what} labels: expected 1 dimension, found {labels.Dimensions.Count}");
        }
        if (images.Count != labels.Count)
        {
            throw new IdxFormatException($"{what}: {images.Count} images but {labels.Count} labels");
        }
        foreach (var l in labels.Data)
        {
            if (l > 9)
            {
                throw new IdxFormatException($"{what} labels: label {l} is not a digit 0-9");
            }
        }
    }

    /// <summary>Pixels 0-255 to normalised float32: the one formula every path uses, so that they agree bit for bit.</summary>
    public static void Normalize(ReadOnlySpan<byte> pixels, Span<float> features)
    {
        for (var i = 0; i < pixels.Length; i++)
        {
            features[i] = (pixels[i] * NormalizeScale) - NormalizeShift;
        }
    }

    /// <summary>What <see cref="Normalize"/> multiplies a pixel by.</summary>
    public const float NormalizeScale = 1f / 255f / MnistStd;

    /// <summary>What <see cref="Normalize"/> then subtracts.</summary>
    public const float NormalizeShift = MnistMean / MnistStd;

    /// <summary>Counts of each label among <paramref name="indices"/>.</summary>
    public int[] LabelHistogram(ReadOnlySpan<int> indices)
    {
        var counts = new int[ClassCount];
        foreach (var i in indices)
        {
            counts[Labels[i]]++;
        }
        return counts;
    }
}

/// <summary>MNIST's two splits: 60,000 training and 10,000 test examples.</summary>
public sealed record MnistDataset(LabeledImages Train, LabeledImages Test)
{
    /// <summary>Loads the four IDX files (raw or gzip) from a folder that <see cref="MnistStore"/> prepared.</summary>
    public static MnistDataset Load(MnistFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var train = LabeledImages.FromIdx(IdxFile.Read(files.TrainImages), IdxFile.Read(files.TrainLabels), "train");
        var test = LabeledImages.FromIdx(IdxFile.Read(files.TestImages), IdxFile.Read(files.TestLabels), "test");
        return new MnistDataset(train, test);
    }
}
