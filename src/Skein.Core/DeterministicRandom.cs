using System.Numerics;

namespace Skein.Core;

/// <summary>
/// A seeded xoshiro256** generator whose output is fixed by its seed on every platform and runtime version,
/// so that anyone can recompute a partition, a client sample or a shuffle from the published seed.
/// </summary>
/// <remarks>
/// <see cref="System.Random"/> documents no such guarantee across .NET versions, which is why this is written
/// here rather than taken from the base library.
/// </remarks>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public DeterministicRandom(ulong seed)
    {
        // SplitMix64 expands the seed into the four words of state, as the xoshiro authors recommend.
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>A generator for one purpose within a seeded run, e.g. (seed, "sample", round).</summary>
    public static DeterministicRandom Derive(ulong seed, string purpose, long index = 0)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        var h = seed ^ 0x9E3779B97F4A7C15UL;
        foreach (var c in purpose)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }
        h ^= (ulong)index * 0xBF58476D1CE4E5B9UL;
        var x = h;
        return new DeterministicRandom(SplitMix(ref x));
    }

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias (Lemire's method).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        var range = (ulong)maxExclusive;
        var m = Math.BigMul(NextUInt64(), range, out var low);
        if (low < range)
        {
            var threshold = (0 - range) % range;
            while (low < threshold)
            {
                m = Math.BigMul(NextUInt64(), range, out low);
            }
        }
        return (int)m;
    }

    /// <summary>Standard normal deviate (Marsaglia polar method).</summary>
    public double NextGaussian()
    {
        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);
        return u * Math.Sqrt(-2 * Math.Log(s) / s);
    }

    /// <summary>Gamma(shape, 1) deviate (Marsaglia and Tsang 2000; boosted for shape below 1).</summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "shape must be a finite number > 0");
        }
        if (shape < 1)
        {
            var u = NextDouble();
            return NextGamma(shape + 1) * Math.Pow(u == 0 ? double.Epsilon : u, 1 / shape);
        }
        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextGaussian();
                v = 1 + (c * x);
            }
            while (v <= 0);
            v = v * v * v;
            var uu = NextDouble();
            if (uu < 1 - (0.0331 * x * x * x * x) || Math.Log(uu) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    /// <summary>In-place Fisher-Yates shuffle.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>k distinct values from [0, n), in ascending order.</summary>
    /// <remarks>
    /// A partial Fisher-Yates shuffle of [0, n). When k is small beside n (100 clients of 100,000) the array of n
    /// is replaced by a map of the positions the shuffle displaced, so time and memory are O(k), not O(n); both
    /// paths make the same draws and swaps and so return the same values.
    /// </remarks>
    public int[] SampleWithoutReplacement(int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n);
        var picked = (long)k * 16 < n ? SparsePartialShuffle(n, k) : DensePartialShuffle(n, k);
        Array.Sort(picked);
        return picked;
    }

    private int[] DensePartialShuffle(int n, int k)
    {
        var all = new int[n];
        for (var i = 0; i < n; i++)
        {
            all[i] = i;
        }
        // Partial Fisher-Yates: only the first k positions need drawing.
        for (var i = 0; i < k; i++)
        {
            var j = i + NextInt(n - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all.AsSpan(0, k).ToArray();
    }

    private int[] SparsePartialShuffle(int n, int k)
    {
        // displaced[p] is the value at position p when it is no longer p itself.
        var displaced = new Dictionary<int, int>(2 * k);
        var picked = new int[k];
        for (var i = 0; i < k; i++)
        {
            var j = i + NextInt(n - i);
            var atI = displaced.TryGetValue(i, out var vi) ? vi : i;
            var atJ = displaced.TryGetValue(j, out var vj) ? vj : j;
            picked[i] = atJ;
            displaced[j] = atI;
        }
        return picked;
    }

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
