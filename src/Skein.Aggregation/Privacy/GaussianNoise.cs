using Skein.Core;

namespace Skein.Aggregation.Privacy;

/// <summary>Fills buffers with standard normal deviates from a <see cref="DeterministicRandom"/>.</summary>
internal static class GaussianNoise
{
    /// <summary>
    /// Writes N(0, 1) deviates into <paramref name="destination"/>, two per draw of the Marsaglia polar method.
    /// </summary>
    /// <remarks>
    /// <see cref="DeterministicRandom.NextGaussian"/> discards the second deviate of each pair, which would halve
    /// the throughput of the noise. Filling consecutive even-length buffers from one generator produces the same
    /// stream as one large fill, so the value at coordinate k depends only on the generator and k. This order is
    /// part of what a verifier recomputes: changing it changes published rounds.
    /// </remarks>
    public static void FillStandardNormal(DeterministicRandom rng, Span<float> destination)
    {
        var i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            var (a, b) = NextPair(rng);
            destination[i] = (float)a;
            destination[i + 1] = (float)b;
        }
        if (i < destination.Length)
        {
            destination[i] = (float)NextPair(rng).A;
        }
    }

    private static (double A, double B) NextPair(DeterministicRandom rng)
    {
        double u, v, s;
        do
        {
            u = (2 * rng.NextDouble()) - 1;
            v = (2 * rng.NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);
        var f = Math.Sqrt(-2 * Math.Log(s) / s);
        return (u * f, v * f);
    }
}
