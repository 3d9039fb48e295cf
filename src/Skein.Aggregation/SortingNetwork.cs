using System.Collections.Concurrent;

namespace Skein.Aggregation;

/// <summary>
/// Batcher's odd-even merge sorting network for n inputs, as a flat list of compare-exchange pairs (i, j), i &lt; j:
/// after applying them in order, position r holds the r-th smallest input. Built for the next power of two and
/// pruned of every pair that touches a position at or beyond n: padding those positions with +infinity would
/// make such pairs no-ops, so the pruned network sorts any n inputs.
/// </summary>
internal static class SortingNetwork
{
    private static readonly ConcurrentDictionary<int, int[]> Cache = new();

    public static int[] For(int n) => Cache.GetOrAdd(n, Build);

    private static int[] Build(int n)
    {
        var size = 1;
        while (size < n)
        {
            size <<= 1;
        }
        var pairs = new List<int>();
        for (var p = 1; p < size; p <<= 1)
        {
            for (var k = p; k >= 1; k >>= 1)
            {
                for (var j = k % p; j <= size - 1 - k; j += 2 * k)
                {
                    for (var i = 0; i <= Math.Min(k - 1, size - j - k - 1); i++)
                    {
                        var a = i + j;
                        var b = i + j + k;
                        if (a / (2 * p) == b / (2 * p) && b < n)
                        {
                            pairs.Add(a);
                            pairs.Add(b);
                        }
                    }
                }
            }
        }
        return [.. pairs];
    }
}
