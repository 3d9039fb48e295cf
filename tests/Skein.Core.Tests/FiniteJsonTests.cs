using System.Text.Json;
using Skein.Core.Json;

namespace Skein.Core.Tests;

public sealed class FiniteJsonTests
{
    private static readonly JsonSerializerOptions Options = new JsonSerializerOptions().WithNonFiniteAsNull();

    private sealed record Sample(double A, double? B, float C, float? D, double[] E, Dictionary<string, double> F);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_numbers_are_written_as_null_wherever_they_sit(double value)
    {
        var json = JsonSerializer.Serialize(new Sample(value, value, (float)value, (float)value, [1.5, value], new() { ["k"] = value }), Options);
        Assert.Equal("""{"A":null,"B":null,"C":null,"D":null,"E":[1.5,null],"F":{"k":null}}""", json);
    }

    [Fact]
    public void Finite_numbers_round_trip_and_null_reads_back_as_NaN_or_null()
    {
        var sample = new Sample(0.1, 2, 0.25f, null, [-3e-300], new() { ["k"] = double.MaxValue });
        var back = JsonSerializer.Deserialize<Sample>(JsonSerializer.Serialize(sample, Options), Options)!;
        Assert.Equal(0.1, back.A);
        Assert.Equal(2, back.B);
        Assert.Equal(0.25f, back.C);
        Assert.Null(back.D);
        Assert.Equal(-3e-300, back.E[0]);
        Assert.Equal(double.MaxValue, back.F["k"]);

        var nan = JsonSerializer.Deserialize<Sample>("""{"A":null,"B":null,"C":null,"D":null,"E":[null],"F":{}}""", Options)!;
        Assert.True(double.IsNaN(nan.A));
        Assert.Null(nan.B);
        Assert.True(float.IsNaN(nan.C));
        Assert.True(double.IsNaN(nan.E[0]));
    }
}
