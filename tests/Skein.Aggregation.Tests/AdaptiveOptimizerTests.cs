using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class AdaptiveOptimizerTests
{
    /// <summary>Reddi et al. 2021, Algorithm 2, in double, with m starting at 0 and v at tau^2.</summary>
    private sealed class Reference(string kind, double eta, double beta1, double beta2, double tau)
    {
        private double[]? _m;
        private double[]? _v;

        public double[] Step(double[] global, ClientUpdate[] updates)
        {
            var delta = Rounds.WeightedMean(updates, global.Length);
            _m ??= new double[global.Length];
            _v ??= Enumerable.Repeat(tau * tau, global.Length).ToArray();
            var result = new double[global.Length];
            for (var i = 0; i < global.Length; i++)
            {
                var d2 = delta[i] * delta[i];
                _m[i] = (beta1 * _m[i]) + ((1 - beta1) * delta[i]);
                _v[i] = kind switch
                {
                    "adagrad" => _v[i] + d2,
                    "adam" => (beta2 * _v[i]) + ((1 - beta2) * d2),
                    "yogi" => _v[i] - ((1 - beta2) * d2 * Math.Sign(_v[i] - d2)),
                    _ => throw new ArgumentException(kind),
                };
                result[i] = global[i] + (eta * _m[i] / (Math.Sqrt(_v[i]) + tau));
            }
            return result;
        }
    }

    private static IAggregationStrategy Create(string kind, double eta, double beta1, double beta2, double tau) => kind switch
    {
        "adagrad" => new FedAdagrad(eta, beta1, tau),
        "adam" => new FedAdam(eta, beta1, beta2, tau),
        "yogi" => new FedYogi(eta, beta1, beta2, tau),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [InlineData("adagrad", 1, 1, 3, 0.1, 0.9, 0.0, 1e-9)]
    [InlineData("adagrad", 2, 6, 301, 0.05, 0.0, 0.0, 1e-3)]
    [InlineData("adam", 3, 1, 1, 0.1, 0.9, 0.99, 1e-9)]
    [InlineData("adam", 4, 8, 513, 0.3, 0.5, 0.9, 1e-2)]
    [InlineData("yogi", 5, 2, 7, 0.01, 0.9, 0.99, 1e-3)]
    [InlineData("yogi", 6, 10, 400, 0.1, 0.0, 0.5, 1e-6)]
    public void Three_rounds_match_the_reference(string kind, int seed, int n, int p, double eta, double beta1, double beta2, double tau)
    {
        var reference = new Reference(kind, eta, beta1, beta2, tau);
        var strategy = Create(kind, eta, beta1, beta2, tau);
        var (global, _) = Rounds.Random(seed, 1, p);
        for (var round = 0; round < 3; round++)
        {
            // Later rounds shrink the deltas so that v has to decay (Adam) or shrink (Yogi) as well as grow.
            var (_, updates) = Rounds.Random((seed * 10) + round, n + round, p, scale: 0.1 / (1 + (3 * round)));
            var expected = reference.Step(Rounds.ToDouble(global), updates);
            strategy.Aggregate(global, updates, new AggregationContext(round, 42));
            Rounds.Close(expected, global, 1e-4);
        }
    }

    [Fact]
    public void Second_moments_start_at_tau_squared()
    {
        var adagrad = new FedAdagrad(tau: 0.5);
        adagrad.Aggregate(new float[2], [new ClientUpdate(new[] { 2f, 0f }, 1)], default);
        Assert.Equal([0.25f + 4f, 0.25f], adagrad.Moments.V!);
        Assert.Equal([0.2f, 0f], adagrad.Moments.M!);

        var yogi = new FedYogi(beta2: 0.5, tau: 2);
        yogi.Aggregate(new float[2], [new ClientUpdate(new[] { 1f, 3f }, 1)], default);
        // v = 4 - 0.5 * d^2 * sign(4 - d^2): 4 - 0.5 = 3.5 and 4 + 4.5 = 8.5.
        Assert.Equal([3.5f, 8.5f], yogi.Moments.V!);
    }

    [Fact]
    public void Flower_defaults_are_the_defaults()
    {
        var adagrad = new FedAdagrad();
        Assert.Equal((0.1, 0.9, 1e-9), (adagrad.Eta, adagrad.Beta1, adagrad.Tau));
        var adam = new FedAdam();
        Assert.Equal((0.1, 0.9, 0.99, 1e-9), (adam.Eta, adam.Beta1, adam.Beta2, adam.Tau));
        var yogi = new FedYogi();
        Assert.Equal((0.01, 0.9, 0.99, 1e-3), (yogi.Eta, yogi.Beta1, yogi.Beta2, yogi.Tau));
    }

    [Theory]
    [InlineData("adagrad")]
    [InlineData("adam")]
    [InlineData("yogi")]
    public void Is_bit_for_bit_deterministic_across_instances_and_rounds(string kind)
    {
        var (global, first) = Rounds.Random(11, 9, 2053);
        var (_, second) = Rounds.Random(12, 9, 2053);
        var a = global.ToArray();
        var b = global.ToArray();
        var sa = Create(kind, 0.1, 0.9, 0.99, 1e-3);
        var sb = Create(kind, 0.1, 0.9, 0.99, 1e-3);
        sa.Aggregate(a, first, default);
        sa.Aggregate(a, second, default);
        sb.Aggregate(b, Rounds.Copy(first), default);
        sb.Aggregate(b, Rounds.Copy(second), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
        Assert.NotEqual(global, a);
    }

    [Theory]
    [InlineData("adagrad")]
    [InlineData("adam")]
    [InlineData("yogi")]
    public void A_refused_round_changes_neither_global_nor_moments(string kind)
    {
        var (global, first) = Rounds.Random(1, 3, 6);
        var (_, second) = Rounds.Random(2, 3, 6);
        var a = global.ToArray();
        var b = global.ToArray();
        var sa = Create(kind, 0.1, 0.9, 0.99, 1e-3);
        var sb = Create(kind, 0.1, 0.9, 0.99, 1e-3);
        sa.Aggregate(a, first, default);
        sb.Aggregate(b, first, default);

        var bad = Rounds.Copy(second);
        bad[2] = new ClientUpdate(new[] { 0f, 0f, 0f, 0f, 0f, float.PositiveInfinity }, 3);
        var before = a.ToArray();
        Assert.Throws<ArgumentException>(() => sa.Aggregate(a, bad, default));
        Assert.Throws<ArgumentException>(() => sa.Aggregate(a, [.. second, new ClientUpdate(new float[5], 1)], default));
        Assert.Throws<ArgumentException>(() => sa.Aggregate(new float[7], [new ClientUpdate(new float[7], 1)], default));
        Assert.Equal(before, a);

        sa.Aggregate(a, second, default);
        sb.Aggregate(b, second, default);
        Assert.Equal(Rounds.Bits(b), Rounds.Bits(a));
    }

    [Fact]
    public void Refuses_bad_parameters()
    {
        Assert.Equal("eta", Assert.Throws<ArgumentOutOfRangeException>(() => new FedAdam(eta: 0)).ParamName);
        Assert.Equal("eta", Assert.Throws<ArgumentOutOfRangeException>(() => new FedYogi(eta: double.NaN)).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new FedAdagrad(beta1: 1)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new FedAdam(beta2: -0.5)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new FedYogi(beta2: 1.5)).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new FedAdagrad(tau: 0)).ParamName);
        // Positive as a double but zero once stored as float32.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FedAdam(tau: 1e-60));
        Assert.Contains("tau must be a finite number > 0 (as float32), got 1E-60", ex.Message);
    }
}
