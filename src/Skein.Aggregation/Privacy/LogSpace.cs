namespace Skein.Aggregation.Privacy;

/// <summary>
/// Log-space arithmetic and the special functions that privacy accounting needs but the base library lacks
/// (no erfc) or computes naively (<c>double.ExpM1</c> and <c>double.LogP1</c> are <c>exp(x) - 1</c> and
/// <c>log(1 + x)</c>, which lose every digit for small <c>x</c>).
/// </summary>
internal static class LogSpace
{
    private static readonly double LogSqrtPi = 0.5 * Math.Log(Math.PI);

    /// <summary>log(exp(a) + exp(b)) without overflow; -inf stands for zero.</summary>
    public static double Add(double a, double b)
    {
        var (lo, hi) = a < b ? (a, b) : (b, a);
        if (double.IsNegativeInfinity(lo))
        {
            return hi;
        }
        if (double.IsPositiveInfinity(hi))
        {
            return hi;
        }
        return hi + Log1p(Math.Exp(lo - hi));
    }

    /// <summary>log(1 + x), accurate for small |x|.</summary>
    public static double Log1p(double x)
    {
        if (Math.Abs(x) < 1e-4)
        {
            // Four terms leave a relative error below x^4 / 5 < 1e-16.
            return x * (1 - (x * ((1.0 / 2) - (x * ((1.0 / 3) - (x / 4))))));
        }
        var u = 1 + x;
        // Goldberg's correction: log(u) / (u - 1) varies slowly, so the rounding of 1 + x cancels out.
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>exp(x) - 1, accurate for small |x|.</summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) < 1e-5)
        {
            return x * (1 + (x * ((1.0 / 2) + (x / 6))));
        }
        var u = Math.Exp(x);
        if (u == 1)
        {
            return x;
        }
        var um1 = u - 1;
        // Kahan's correction, the dual of Goldberg's for log1p; meaningless once exp(x) has over- or underflowed.
        return um1 == -1 || double.IsInfinity(u) ? um1 : um1 * x / Math.Log(u);
    }

    /// <summary>log(erfc(x)), accurate to a few ulps for every x, including where erfc(x) underflows.</summary>
    public static double LogErfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        if (x < 0)
        {
            // erfc(x) = 2 - erfc(-x) lies in (1, 2]: no cancellation.
            return Math.Log(2 - Erfc(-x));
        }
        if (x < ContinuedFractionFrom)
        {
            return Math.Log(1 - Erf(x));
        }
        return -(x * x) - LogSqrtPi - Math.Log(ErfcContinuedFractionDenominator(x));
    }

    /// <summary>erfc(x) for x &gt;= 0.</summary>
    public static double Erfc(double x)
    {
        if (x < ContinuedFractionFrom)
        {
            return 1 - Erf(x);
        }
        return Math.Exp(-(x * x)) / (Math.Sqrt(Math.PI) * ErfcContinuedFractionDenominator(x));
    }

    // Below this, 1 - erf(x) keeps at least 13 significant digits of erfc (erfc(2.5) = 4e-4); above it the
    // continued fraction converges in fewer than 60 steps.
    private const double ContinuedFractionFrom = 2.5;

    /// <summary>erf(x) for 0 &lt;= x &lt; 2.5 from the series of positive terms (no cancellation).</summary>
    private static double Erf(double x)
    {
        // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)).
        var twoX2 = 2 * x * x;
        var term = x;
        var sum = x;
        for (var n = 1; n < 200 && term > sum * 1e-17; n++)
        {
            term *= twoX2 / ((2 * n) + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-(x * x)) * sum;
    }

    /// <summary>
    /// The denominator K(x) in erfc(x) = exp(-x^2) / (sqrt(pi) K(x)), K(x) = x + (1/2)/(x + 1/(x + (3/2)/(x + ...))),
    /// evaluated by the modified Lentz method.
    /// </summary>
    private static double ErfcContinuedFractionDenominator(double x)
    {
        const double tiny = 1e-300;
        var f = x;
        var c = f;
        var d = 0.0;
        for (var k = 1; k < 500; k++)
        {
            var a = k * 0.5;
            d = x + (a * d);
            d = d == 0 ? tiny : 1 / d;
            c = x + (a / c);
            if (c == 0)
            {
                c = tiny;
            }
            var step = c * d;
            f *= step;
            if (Math.Abs(step - 1) < 1e-16)
            {
                break;
            }
        }
        return f;
    }
}
