using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

/// <summary>The input rules every strategy shares, and that a refused round leaves global as it was.</summary>
public sealed class RoundInputTests
{
    public static TheoryData<string> Strategies =>
        ["fedavg", "fedavgm", "fedadagrad", "fedadam", "fedyogi", "median", "trimmed_mean", "krum", "multikrum", "bulyan", "clipped"];

    private static IAggregationStrategy Create(string name) => name switch
    {
        "krum" or "multikrum" or "bulyan" => StrategyFactory.Create(new StrategySpec(name, new Dictionary<string, double> { ["f"] = 1 })),
        "clipped" => new NormClipping(new FedAvg(), 0.01),
        _ => StrategyFactory.Create(new StrategySpec(name)),
    };

    private static (float[] Global, ClientUpdate[] Updates) ValidRound() => Rounds.Random(17, 7, 5);

    private static void AssertRefused(string name, float[] global, IReadOnlyList<ClientUpdate> updates, string fragment)
    {
        var before = global.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => Create(name).Aggregate(global, updates, default));
        Assert.Contains(fragment, ex.Message);
        Assert.Equal(Rounds.Bits(before), Rounds.Bits(global));
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Accepts_the_valid_round(string name)
    {
        var (global, updates) = ValidRound();
        var before = global.ToArray();
        Create(name).Aggregate(global, updates, default);
        Assert.NotEqual(before, global);
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Refuses_an_empty_round(string name) =>
        AssertRefused(name, new float[5], [], "needs at least one update");

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Refuses_a_delta_of_the_wrong_length(string name)
    {
        var (global, updates) = ValidRound();
        updates[3] = new ClientUpdate(new float[6], 10);
        AssertRefused(name, global, updates, "update 3 has 6 values, expected 5");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Refuses_non_finite_deltas(string name)
    {
        var (global, updates) = ValidRound();
        updates[6] = new ClientUpdate(new[] { 0f, 0f, 0f, 0f, float.NegativeInfinity }, 10);
        AssertRefused(name, global, updates, "update 6: value 4 is -Infinity; deltas must be finite");
        updates[6] = new ClientUpdate(new[] { float.NaN, 0f, 0f, 0f, 0f }, 10);
        AssertRefused(name, global, updates, "update 6: value 0 is NaN");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Refuses_a_non_finite_global_vector(string name)
    {
        var (global, updates) = ValidRound();
        global[2] = float.NaN;
        AssertRefused(name, global, updates, "global value 2 is NaN");
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void Refuses_non_positive_sample_counts(string name)
    {
        var (global, updates) = ValidRound();
        updates[0] = updates[0] with { SampleCount = 0 };
        AssertRefused(name, global, updates, "update 0: sample count must be > 0, got 0");
    }

    [Fact]
    public void Names_the_strategy_and_the_argument()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CoordinateMedian().Aggregate(new float[1], [], default));
        Assert.StartsWith("median: needs at least one update", ex.Message);
        Assert.Equal("updates", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => new TrimmedMean().Aggregate(new float[1], null!, default));
    }
}
