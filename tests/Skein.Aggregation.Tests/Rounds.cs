using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

/// <summary>Random rounds and the slow, obvious double-precision helpers the reference computations share.</summary>
internal static class Rounds
{
    public static (float[] Global, ClientUpdate[] Updates) Random(int seed, int n, int p, double scale = 0.1)
    {
        var rng = new Random(seed);
        var global = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var updates = Enumerable.Range(0, n)
            .Select(_ => new ClientUpdate(
                Enumerable.Range(0, p).Select(_ => (float)((rng.NextDouble() - 0.5) * scale)).ToArray(),
                rng.Next(1, 1000)))
            .ToArray();
        return (global, updates);
    }

    /// <summary>n honest deltas within 0.001 of +0.01 and, last, one delta that is 10^6 in every coordinate.</summary>
    public static (float[] Global, ClientUpdate[] Updates) WithOutlier(int seed, int n, int p)
    {
        var rng = new Random(seed);
        var global = Enumerable.Range(0, p).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var honest = Enumerable.Range(0, n)
            .Select(_ => new ClientUpdate(
                Enumerable.Range(0, p).Select(_ => (float)(0.01 + ((rng.NextDouble() - 0.5) * 0.002))).ToArray(),
                rng.Next(1, 1000)))
            .ToArray();
        var outlier = new ClientUpdate(Enumerable.Repeat(1e6f, p).ToArray(), 1000);
        return (global, [.. honest, outlier]);
    }

    public static ClientUpdate[] Copy(IEnumerable<ClientUpdate> updates) =>
        updates.Select(u => new ClientUpdate(u.Delta.ToArray(), u.SampleCount)).ToArray();

    public static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }
        return result;
    }

    public static double[] Coordinate(ClientUpdate[] updates, int c) => updates.Select(u => (double)u.Delta.Span[c]).ToArray();

    public static double SquaredDistance(ClientUpdate a, ClientUpdate b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Delta.Length; i++)
        {
            var d = (double)a.Delta.Span[i] - b.Delta.Span[i];
            sum += d * d;
        }
        return sum;
    }

    public static double Norm(ReadOnlySpan<float> x)
    {
        var sum = 0.0;
        foreach (var v in x)
        {
            sum += (double)v * v;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>global + the plain sample-weighted mean delta, in double.</summary>
    public static double[] WeightedMean(ClientUpdate[] updates, int p)
    {
        var total = updates.Sum(u => (double)u.SampleCount);
        var mean = new double[p];
        foreach (var u in updates)
        {
            for (var i = 0; i < p; i++)
            {
                mean[i] += u.SampleCount / total * u.Delta.Span[i];
            }
        }
        return mean;
    }

    public static double[] Plus(float[] global, double[] step) => global.Select((g, i) => g + step[i]).ToArray();

    public static void Close(double[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var allowed = tolerance * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= allowed, $"coordinate {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    public static bool AreClose(double[] expected, float[] actual, double tolerance = 1e-5) =>
        expected.Length == actual.Length
        && expected.Zip(actual).All(t => Math.Abs(t.First - t.Second) <= tolerance * Math.Max(1, Math.Abs(t.First)));
}
