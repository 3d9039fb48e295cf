using Skein.Aggregation.Privacy;

namespace Skein.Aggregation.Tests.Privacy;

public sealed class LogSpaceTests
{
    // Reference values of erfc to 16 digits (Abramowitz and Stegun table 7.1 and its extensions; they agree with
    // mpmath.erfc).
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(2.0, 0.004677734981047266)]
    [InlineData(2.5, 4.069520174449590e-4)]
    [InlineData(3.0, 2.209049699858544e-5)]
    [InlineData(5.0, 1.5374597944280349e-12)]
    [InlineData(10.0, 2.088487583762545e-45)]
    public void Erfc_and_its_log_match_reference_values(double x, double expected)
    {
        Assert.Equal(expected, LogSpace.Erfc(x), expected * 1e-12);
        Assert.Equal(Math.Log(expected), LogSpace.LogErfc(x), 1e-12);
        Assert.Equal(Math.Log(2 - expected), LogSpace.LogErfc(-x), 1e-15);
    }

    [Theory]
    [InlineData(30.0)]
    [InlineData(100.0)]
    [InlineData(1e4)]
    public void Log_erfc_stays_accurate_where_erfc_underflows(double x)
    {
        // erfc(x) = exp(-x^2) / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8) - ...); at x = 30
        // the first omitted term is 5e-14.
        var y = 1 / (2 * x * x);
        var series = 1 - (y * (1 - (3 * y * (1 - (5 * y * (1 - (7 * y)))))));
        var expected = -(x * x) - Math.Log(x * Math.Sqrt(Math.PI)) + Math.Log(series);
        Assert.Equal(expected, LogSpace.LogErfc(x), Math.Abs(expected) * 1e-14);
    }

    [Fact]
    public void Erfc_is_continuous_where_the_method_changes()
    {
        var below = LogSpace.LogErfc(Math.BitDecrement(2.5));
        var above = LogSpace.LogErfc(2.5);
        Assert.Equal(above, below, 1e-12);
    }

    [Theory]
    [InlineData(1e-10)]
    [InlineData(-1e-10)]
    [InlineData(3e-5)]
    [InlineData(0.3)]
    [InlineData(-0.7)]
    [InlineData(5.0)]
    public void Log1p_and_expm1_are_accurate_and_inverse(double x)
    {
        // Taylor series to far beyond double precision for small x; the plain formulas are exact enough otherwise.
        var log1p = Math.Abs(x) < 1e-3 ? x - (x * x / 2) + (x * x * x / 3) - (x * x * x * x / 4) : Math.Log(1 + x);
        var expm1 = Math.Abs(x) < 1e-3 ? x + (x * x / 2) + (x * x * x / 6) + (x * x * x * x / 24) : Math.Exp(x) - 1;
        Assert.Equal(log1p, LogSpace.Log1p(x), Math.Abs(log1p) * 1e-14);
        Assert.Equal(expm1, LogSpace.Expm1(x), Math.Abs(expm1) * 1e-14);
        Assert.Equal(x, LogSpace.Log1p(LogSpace.Expm1(x)), Math.Abs(x) * 1e-14);
    }

    [Fact]
    public void Log_add_handles_zero_and_large_gaps()
    {
        Assert.Equal(Math.Log(5), LogSpace.Add(Math.Log(2), Math.Log(3)), 1e-15);
        Assert.Equal(7.0, LogSpace.Add(double.NegativeInfinity, 7.0));
        Assert.Equal(1000.0, LogSpace.Add(1000.0, -1000.0));
        Assert.Equal(double.NegativeInfinity, LogSpace.Add(double.NegativeInfinity, double.NegativeInfinity));
        Assert.Equal(double.PositiveInfinity, LogSpace.Add(double.PositiveInfinity, 1.0));
    }
}
