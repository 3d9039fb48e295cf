using System.Collections;
using System.Reflection;
using System.Text.Json;
using Skein.Cli.Network;
using Skein.Coordinator.Api;
using Skein.Simulation;
using Skein.Simulation.Benchmarks;

namespace Skein.Cli.Tests;

/// <summary>
/// Every --json and --summary writer takes NaN and both infinities in any of its numbers and still writes one
/// valid JSON document, with those numbers as null (docs/json.md).
/// </summary>
public sealed class NonFiniteJsonTests
{
    public static TheoryData<string, double> Writers()
    {
        var data = new TheoryData<string, double>();
        foreach (var writer in WriterNames)
        {
            foreach (var value in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                data.Add(writer, value);
            }
        }
        return data;
    }

    private static readonly string[] WriterNames =
    [
        "simulate", "bench fl", "bench fl matrix", "bench aggregate", "bench train", "bench round", "demo", "json api",
    ];

    /// <summary>The document each command writes, built from its own result types with every number set to <paramref name="value"/>.</summary>
    private static string Write(string writer, double value) => writer switch
    {
        "simulate" => Fill<RunSummary>(value).ToJson(),
        "bench fl" => JsonOutput.Serialize(Fill<FlRunResult>(value)),
        "bench fl matrix" => JsonOutput.Serialize(new FlMatrixSummary("m", [Fill<FlRunResult>(value), Fill<FlRunResult>(value)])),
        "bench aggregate" => JsonOutput.Serialize(new { results = new[] { Fill<AggregationThroughput>(value) }, skipped = Array.Empty<object>() }),
        "bench train" => JsonOutput.Serialize(new { results = new[] { Fill<TrainingThroughput>(value) } }),
        "bench round" => JsonOutput.Serialize(new { rounds = new[] { Fill<RoundOverhead>(value) }, summary = new[] { new { nodes = 10, median_ratio = value, max_ratio = value } }, upload = Fill<UploadThroughput>(value) }),
        "demo" => NetworkDemo.SummaryJson(Fill<DemoSummary>(value)),
        // verify writes with the JSON API's options; its own records hold no real numbers today, later ones may.
        "json api" => JsonSerializer.Serialize(new { verify = Fill<RoundVerification>(value), ratio = value, ratios = new[] { value, value } }, ApiJson.Options),
        _ => throw new ArgumentOutOfRangeException(nameof(writer)),
    };

    [Theory]
    [MemberData(nameof(Writers))]
    public void Writer_turns_every_non_finite_number_into_null_and_stays_valid_json(string writer, double value)
    {
        var text = Write(writer, value);
        using var doc = JsonDocument.Parse(text);
        // Every real field holds the non-finite value and every integer field 7: a number in the output that is not an
        // integer is a non-finite value that leaked through as something else (a sentinel, a clamp).
        var numbers = new List<string>();
        var nulls = 0;
        Walk(doc.RootElement, numbers, ref nulls);
        Assert.All(numbers, n => Assert.True(long.TryParse(n, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _), n));
        Assert.True(nulls > 0, $"{writer}: no real number was written as null");
    }

    [Fact]
    public void A_diverged_simulation_says_where_beside_the_null_loss()
    {
        var rounds = new[]
        {
            new RoundReport(1, 0.9, 0.3, 1, 5, 0, 100, 0.4, 1, 1),
            new RoundReport(2, 0.098, double.NaN, 1, 5, 0, 100, double.NaN, 1, 1),
        };
        var report = new SimulationReport(new SimulationOptions(), rounds, 0.098, double.NaN, 2, 100, null, new string('0', 64));
        using var doc = JsonDocument.Parse(RunSummary.From(report).ToJson());
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("final_loss").ValueKind);
        Assert.True(root.GetProperty("diverged").GetBoolean());
        Assert.Equal(2, root.GetProperty("diverged_round").GetInt32());
        Assert.Equal(0.3, root.GetProperty("rounds")[0].GetProperty("loss").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("rounds")[1].GetProperty("loss").ValueKind);
    }

    private static void Walk(JsonElement e, List<string> numbers, ref int nulls)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    Walk(p.Value, numbers, ref nulls);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                {
                    Walk(item, numbers, ref nulls);
                }
                break;
            case JsonValueKind.Number:
                numbers.Add(e.GetRawText());
                break;
            case JsonValueKind.Null:
                nulls++;
                break;
        }
    }

    /// <summary>An instance of a result record with every real number set to <paramref name="real"/>, every integer to 7, every list holding one filled element.</summary>
    private static T Fill<T>(double real) => (T)Fill(typeof(T), real, depth: 0);

    private static object Fill(Type type, double real, int depth)
    {
        Assert.True(depth < 8, $"{type}: nested too deep to fill");
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(double))
        {
            return real;
        }
        if (underlying == typeof(float))
        {
            return (float)real;
        }
        if (underlying == typeof(string))
        {
            return "s";
        }
        if (underlying == typeof(decimal))
        {
            // decimal has no NaN: it is an integer-like field here.
            return 7m;
        }
        if (underlying == typeof(bool))
        {
            return true;
        }
        if (underlying.IsEnum)
        {
            return Enum.GetValues(underlying).GetValue(0)!;
        }
        if (underlying.IsPrimitive)
        {
            return Convert.ChangeType(7, underlying, System.Globalization.CultureInfo.InvariantCulture);
        }
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() is var definition
            && (definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(Dictionary<,>)))
        {
            var args = underlying.GetGenericArguments();
            var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
            dictionary.Add(Fill(args[0], real, depth + 1), Fill(args[1], real, depth + 1));
            return dictionary;
        }
        if (underlying.IsArray || (underlying.IsGenericType && typeof(IEnumerable).IsAssignableFrom(underlying)))
        {
            var element = underlying.IsArray ? underlying.GetElementType()! : underlying.GetGenericArguments()[0];
            var array = Array.CreateInstance(element, 1);
            array.SetValue(Fill(element, real, depth + 1), 0);
            return array;
        }
        var constructor = underlying.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.Invoke(constructor.GetParameters().Select(p => Fill(p.ParameterType, real, depth + 1)).ToArray());
    }
}
