using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Skein.Aggregation;

/// <summary>
/// Sums of squares in double whose order of additions is fixed by this code rather than by the machine.
/// </summary>
/// <remarks>
/// TensorPrimitives reductions use the widest vectors the CPU has (AVX-512, AVX2, NEON), so the order in which
/// they add, and hence the low bits of a sum, can differ between machines. Krum's choice and the clipping
/// decision depend on such sums, and anyone must be able to recompute them, so these use a fixed layout of
/// 128-bit lanes (accelerated on x64 and Arm64, emulated with the same IEEE results elsewhere).
/// </remarks>
internal static class FixedOrderSum
{
    /// <summary>The squared L2 distance between <paramref name="x"/> and <paramref name="y"/>, each difference taken in double.</summary>
    public static double SquaredDistance(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Debug.Assert(x.Length == y.Length, "vectors must have equal lengths");
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var a0 = Vector128<double>.Zero;
        var a1 = Vector128<double>.Zero;
        var a2 = Vector128<double>.Zero;
        var a3 = Vector128<double>.Zero;
        var i = 0;
        for (; i <= x.Length - 8; i += 8)
        {
            var (x0, x1) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)i));
            var (x2, x3) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)(i + 4)));
            var (y0, y1) = Vector128.Widen(Vector128.LoadUnsafe(ref yr, (nuint)i));
            var (y2, y3) = Vector128.Widen(Vector128.LoadUnsafe(ref yr, (nuint)(i + 4)));
            var d0 = x0 - y0;
            var d1 = x1 - y1;
            var d2 = x2 - y2;
            var d3 = x3 - y3;
            a0 += d0 * d0;
            a1 += d1 * d1;
            a2 += d2 * d2;
            a3 += d3 * d3;
        }
        var sum = Horizontal(a0, a1, a2, a3);
        for (; i < x.Length; i++)
        {
            var d = (double)x[i] - y[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>The squared L2 norm of <paramref name="x"/>.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        var a0 = Vector128<double>.Zero;
        var a1 = Vector128<double>.Zero;
        var a2 = Vector128<double>.Zero;
        var a3 = Vector128<double>.Zero;
        var i = 0;
        for (; i <= x.Length - 8; i += 8)
        {
            var (x0, x1) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)i));
            var (x2, x3) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)(i + 4)));
            a0 += x0 * x0;
            a1 += x1 * x1;
            a2 += x2 * x2;
            a3 += x3 * x3;
        }
        var sum = Horizontal(a0, a1, a2, a3);
        for (; i < x.Length; i++)
        {
            var v = (double)x[i];
            sum += v * v;
        }
        return sum;
    }

    private static double Horizontal(Vector128<double> a0, Vector128<double> a1, Vector128<double> a2, Vector128<double> a3)
    {
        var s = (a0 + a1) + (a2 + a3);
        return s.GetElement(0) + s.GetElement(1);
    }
}
