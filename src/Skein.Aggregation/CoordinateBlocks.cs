using System.Buffers;

namespace Skein.Aggregation;

/// <summary>A per-coordinate order statistic: reduces one coordinate's values from all members to the amount added to global.</summary>
internal interface ICoordinateRule
{
    /// <summary>Reduces <paramref name="values"/>, which the rule may reorder in place.</summary>
    double Reduce(Span<float> values);
}

/// <summary>
/// Runs a coordinate-wise rule over the deltas a block of coordinates at a time: each block's n×B values are
/// copied into one pooled, coordinate-major scratch buffer, so a coordinate's n values are contiguous and
/// the rule can sort them in place without any allocation per coordinate.
/// </summary>
internal static class CoordinateBlocks
{
    /// <summary>Upper bound on the coordinates per block.</summary>
    internal const int MaxBlockLength = 2048;

    // 64 Ki floats (256 KiB) keeps a block's scratch within a typical L2 cache however many updates there are.
    private const int ScratchFloats = 1 << 16;

    /// <summary>How many coordinates a block holds for <paramref name="memberCount"/> updates.</summary>
    internal static int BlockLength(int memberCount) => Math.Clamp(ScratchFloats / Math.Max(1, memberCount), 1, MaxBlockLength);

    /// <summary>
    /// For every coordinate c: global[c] += rule(values of c in the members' deltas). The sum is taken in double
    /// and rounded once to float32.
    /// </summary>
    public static void AddReduced<TRule>(Span<float> global, IReadOnlyList<ClientUpdate> updates, ReadOnlySpan<int> members, TRule rule)
        where TRule : struct, ICoordinateRule
    {
        var n = members.Length;
        var length = global.Length;
        if (n == 0 || length == 0)
        {
            return;
        }
        var block = Math.Min(BlockLength(n), length);
        var scratch = ArrayPool<float>.Shared.Rent(n * block);
        try
        {
            for (var start = 0; start < length; start += block)
            {
                var count = Math.Min(block, length - start);
                for (var k = 0; k < n; k++)
                {
                    var source = updates[members[k]].Delta.Span.Slice(start, count);
                    for (var j = 0; j < count; j++)
                    {
                        scratch[(j * n) + k] = source[j];
                    }
                }
                var target = global.Slice(start, count);
                for (var j = 0; j < count; j++)
                {
                    target[j] = (float)(target[j] + rule.Reduce(scratch.AsSpan(j * n, n)));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>The indices 0..n-1, for rules that use every update.</summary>
    public static int[] All(int n)
    {
        var all = new int[n];
        for (var i = 0; i < n; i++)
        {
            all[i] = i;
        }
        return all;
    }
}
