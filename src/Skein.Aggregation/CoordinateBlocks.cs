using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Skein.Aggregation;

/// <summary>A per-coordinate order statistic: reduces one coordinate's values, sorted ascending, to the amount added to global.</summary>
internal interface ICoordinateRule
{
    /// <summary>Reduces <paramref name="sorted"/> (one coordinate's values from every member, ascending).</summary>
    double Reduce(Span<float> sorted);
}

/// <summary>
/// Runs a coordinate-wise rule over the deltas, handing it each coordinate's n values in ascending order.
/// </summary>
/// <remarks>
/// Sorting each coordinate's n values one coordinate at a time costs a branchy comparison sort per coordinate.
/// Instead, 8 or 16 coordinates are sorted at once with SIMD, lanes being coordinates: row k holds member k's
/// values for those coordinates (loaded straight from its contiguous delta, no transposition), and a sorting
/// network (<see cref="SortingNetwork"/>) of branch-free vector min/max compare-exchanges leaves row r holding
/// every lane's r-th smallest value. Where n is very large or SIMD is absent, a per-coordinate sort is used.
/// Both produce the same sorted values, so the rule sees the same input either way. Blocks of coordinates run in
/// parallel, and each coordinate's result depends only on its own values.
/// </remarks>
internal static class CoordinateBlocks
{
    /// <summary>
    /// Above this many members the per-coordinate sort is used: the network's rows (n vectors) would outgrow the
    /// L2 cache. Below it the network's n log^2 n branch-free steps per 8 or 16 coordinates beat n log n branchy
    /// comparisons per coordinate (measured: about 12x at n = 1000).
    /// </summary>
    internal const int MaxVectorMembers = 4096;

    /// <summary>Coordinates per block (a multiple of every SIMD width); a block's sorted values take n x 256 floats.</summary>
    internal const int MaxBlockLength = 256;

    /// <summary>Coordinates per block (the same for any member count; kept for block-boundary tests).</summary>
    internal static int BlockLength(int memberCount) => MaxBlockLength;

    /// <summary>
    /// For every coordinate c: global[c] += rule(sorted values of c in the members' deltas), the addition done in
    /// double and rounded once to float32. Each coordinate's result depends only on its own values, so the
    /// output does not depend on how blocks are scheduled.
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
        var deltas = new ReadOnlyMemory<float>[n];
        for (var k = 0; k < n; k++)
        {
            deltas[k] = updates[members[k]].Delta;
        }
        var blocks = (length + MaxBlockLength - 1) / MaxBlockLength;
        // A span cannot be captured by the parallel workers; the global vector is pinned for the (synchronous) loop.
        unsafe
        {
            fixed (float* g = global)
            {
                var pointer = (nint)g;
                Parallel.For(0, blocks, () => new float[n * MaxBlockLength], (b, _, scratch) =>
                {
                    var start = b * MaxBlockLength;
                    var count = Math.Min(MaxBlockLength, length - start);
                    ReduceBlock(new Span<float>((float*)pointer + start, count), deltas, start, scratch, rule);
                    return scratch;
                }, _ => { });
            }
        }
    }

    private static void ReduceBlock<TRule>(Span<float> globalBlock, ReadOnlyMemory<float>[] deltas, int start, float[] scratch, TRule rule)
        where TRule : struct, ICoordinateRule
    {
        var n = deltas.Length;
        var c = 0;
        if (n <= MaxVectorMembers)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                c = SortedGroups<Lanes512, Vector512<float>, TRule>(globalBlock, deltas, start, scratch, rule);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                c = SortedGroups<Lanes256, Vector256<float>, TRule>(globalBlock, deltas, start, scratch, rule);
            }
        }

        // The rest (a block's tail, many members, or no SIMD): gather each coordinate's values and sort them.
        for (; c < globalBlock.Length; c++)
        {
            var column = scratch.AsSpan(0, n);
            for (var k = 0; k < n; k++)
            {
                column[k] = deltas[k].Span[start + c];
            }
            column.Sort();
            globalBlock[c] = (float)(globalBlock[c] + rule.Reduce(column));
        }
    }

    /// <summary>Reduces the block's whole SIMD groups of coordinates; returns how many coordinates it handled.</summary>
    private static int SortedGroups<TLanes, TValue, TRule>(Span<float> globalBlock, ReadOnlyMemory<float>[] deltas, int start, float[] scratch, TRule rule)
        where TLanes : struct, ILanes<TValue>
        where TValue : struct
        where TRule : struct, ICoordinateRule
    {
        var n = deltas.Length;
        var lanes = TLanes.Count;
        var values = ArrayPool<TValue>.Shared.Rent(n);
        var network = SortingNetwork.For(n);
        var c = 0;
        try
        {
            for (; c + lanes <= globalBlock.Length; c += lanes)
            {
                for (var k = 0; k < n; k++)
                {
                    values[k] = TLanes.Load(deltas[k].Span.Slice(start + c, lanes));
                }
                SortNetwork<TLanes, TValue>(values.AsSpan(0, n), network);
                // Row r now holds every lane's r-th smallest value; lane l's sorted values go to scratch[l*n .. l*n+n).
                var flatValues = MemoryMarshal.Cast<TValue, float>(values.AsSpan(0, n));
                for (var r = 0; r < n; r++)
                {
                    for (var l = 0; l < lanes; l++)
                    {
                        scratch[(l * n) + r] = flatValues[(r * lanes) + l];
                    }
                }
                for (var l = 0; l < lanes; l++)
                {
                    globalBlock[c + l] = (float)(globalBlock[c + l] + rule.Reduce(scratch.AsSpan(l * n, n)));
                }
            }
        }
        finally
        {
            ArrayPool<TValue>.Shared.Return(values);
        }
        return c;
    }

    /// <summary>Applies the compare-exchange network to the rows: afterwards row r holds each lane's r-th smallest value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SortNetwork<TLanes, TValue>(Span<TValue> rows, ReadOnlySpan<int> network)
        where TLanes : struct, ILanes<TValue>
        where TValue : struct
    {
        for (var c = 0; c + 1 < network.Length; c += 2)
        {
            ref var a = ref rows[network[c]];
            ref var b = ref rows[network[c + 1]];
            var lo = TLanes.Min(a, b);
            b = TLanes.Max(a, b);
            a = lo;
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

    /// <summary>The handful of SIMD operations the sorting network needs, for one vector width (the BCL's ISimdVector is not public).</summary>
    private interface ILanes<TValue>
    {
        static abstract int Count { get; }

        static abstract TValue Load(ReadOnlySpan<float> source);

        static abstract TValue Min(TValue a, TValue b);

        static abstract TValue Max(TValue a, TValue b);
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;

        public static Vector256<float> Load(ReadOnlySpan<float> source) => Vector256.Create(source);

        public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);

        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    }

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;

        public static Vector512<float> Load(ReadOnlySpan<float> source) => Vector512.Create(source);

        public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

        public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    }
}
