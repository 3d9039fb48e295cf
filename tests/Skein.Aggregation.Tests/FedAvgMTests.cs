using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class FedAvgMTests
{
    /// <summary>Hsu et al. 2019 in double: v = beta*v + mean delta; w = w + eta*v, over consecutive rounds.</summary>
    private sealed class Reference(double eta, double beta)
    {
        private double[]? _v;

        public double[] Step(double[] global, ClientUpdate[] updates)
        {
            var mean = Rounds.WeightedMean(updates, global.Length);
            _v ??= new double[global.Length];
            for (var i = 0; i < global.Length; i++)
            {
                _v[i] = (beta * _v[i]) + mean[i];
            }
            return global.Select((g, i) => g + (eta * _v[i])).ToArray();
        }
    }

    [Theory]
    [InlineData(1, 1, 5, 1.0, 0.9)]
    [InlineData(2, 4, 1, 0.5, 0.0)]
    [InlineData(3, 9, 257, 1.7, 0.99)]
    public void Two_rounds_match_the_reference(int seed, int n, int p, double eta, double beta)
    {
        var (global, first) = Rounds.Random(seed, n, p);
        var (_, second) = Rounds.Random(seed + 100, n + 1, p);
        var reference = new Reference(eta, beta);
        var strategy = new FedAvgM(eta, beta);

        var expected = reference.Step(Rounds.ToDouble(global), first);
        strategy.Aggregate(global, first, default);
        Rounds.Close(expected, global);

        expected = reference.Step(Rounds.ToDouble(global), second);
        strategy.Aggregate(global, second, default);
        Rounds.Close(expected, global);
    }

    [Fact]
    public void Momentum_carries_the_first_round_into_the_second()
    {
        var global = new float[] { 0f };
        var strategy = new FedAvgM(serverLearningRate: 1.0, momentum: 0.5);
        strategy.Aggregate(global, [new ClientUpdate(new[] { 1f }, 1)], default);
        Assert.Equal(1f, global[0]);
        strategy.Aggregate(global, [new ClientUpdate(new[] { 0f }, 1)], default);
        Assert.Equal(1.5f, global[0]);
        Assert.Equal([0.5f], strategy.MomentumVector!);
    }

    [Theory]
    [InlineData(1.0, 0.9)]
    [InlineData(0.5, 0.7)]
    public void Momentum_rebuilt_from_the_last_step_continues_like_the_instance_that_kept_it(double eta, double beta)
    {
        var (global, first) = Rounds.Random(11, 5, 300);
        var (_, second) = Rounds.Random(12, 5, 300);
        var kept = new FedAvgM(eta, beta);
        var before = global.ToArray();
        kept.Aggregate(global, first, default);
        var after = global.ToArray();
        kept.Aggregate(global, second, default);

        // A fresh instance, as a restarted coordinator or a verifier has, sees only the two published models.
        var rebuilt = new FedAvgM(eta, beta);
        StrategyState.RestoreFromLastStep(rebuilt, before, after);
        var replay = after.ToArray();
        rebuilt.Aggregate(replay, second, default);
        for (var i = 0; i < replay.Length; i++)
        {
            Assert.Equal(global[i], replay[i], 1e-5f);
        }
        // And two rebuilt instances agree bit for bit.
        var again = new FedAvgM(eta, beta);
        StrategyState.RestoreFromLastStep(again, before, after);
        var replay2 = after.ToArray();
        again.Aggregate(replay2, second, default);
        Assert.Equal(replay, replay2);
    }

    [Fact]
    public void Adaptive_optimizers_have_hidden_state_and_FedAvgM_does_not()
    {
        Assert.True(StrategyState.HasHiddenState(new FedAdam()));
        Assert.True(StrategyState.HasHiddenState(new NormClipping(new FedYogi(), 1.0)));
        Assert.False(StrategyState.HasHiddenState(new FedAvgM()));
        Assert.False(StrategyState.HasHiddenState(new FedAvg()));
    }

    [Fact]
    public void Without_momentum_and_with_unit_rate_it_is_FedAvg_bit_for_bit()
    {
        var (global, updates) = Rounds.Random(5, 12, 1000);
        var a = global.ToArray();
        var b = global.ToArray();
        new FedAvgM(1.0, 0.0).Aggregate(a, updates, default);
        new FedAvg().Aggregate(b, updates, default);
        Assert.Equal(Rounds.Bits(b), Rounds.Bits(a));
    }

    [Fact]
    public void Is_bit_for_bit_deterministic_across_instances_and_rounds()
    {
        var (global, first) = Rounds.Random(7, 10, 3001);
        var (_, second) = Rounds.Random(8, 10, 3001);
        var a = global.ToArray();
        var b = global.ToArray();
        var sa = new FedAvgM();
        var sb = new FedAvgM();
        sa.Aggregate(a, first, default);
        sa.Aggregate(a, second, default);
        sb.Aggregate(b, Rounds.Copy(first), default);
        sb.Aggregate(b, Rounds.Copy(second), default);
        Assert.Equal(Rounds.Bits(a), Rounds.Bits(b));
    }

    [Fact]
    public void A_refused_round_changes_neither_global_nor_momentum()
    {
        var (global, first) = Rounds.Random(1, 3, 4);
        var (_, second) = Rounds.Random(2, 3, 4);
        var a = global.ToArray();
        var b = global.ToArray();
        var sa = new FedAvgM();
        var sb = new FedAvgM();
        sa.Aggregate(a, first, default);
        sb.Aggregate(b, first, default);

        var bad = Rounds.Copy(second);
        bad[2] = new ClientUpdate(new[] { 0f, float.NaN, 0f, 0f }, 3);
        var before = a.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => sa.Aggregate(a, bad, default));
        Assert.Contains("update 2: value 1 is NaN", ex.Message);
        Assert.Equal(before, a);

        sa.Aggregate(a, second, default);
        sb.Aggregate(b, second, default);
        Assert.Equal(Rounds.Bits(b), Rounds.Bits(a));
    }

    [Fact]
    public void Refuses_a_round_of_another_length_than_its_state()
    {
        var strategy = new FedAvgM();
        strategy.Aggregate(new float[3], [new ClientUpdate(new float[3], 1)], default);
        var ex = Assert.Throws<ArgumentException>(() => strategy.Aggregate(new float[4], [new ClientUpdate(new float[4], 1)], default));
        Assert.Contains("server state was built for 3", ex.Message);
        strategy.Reset();
        strategy.Aggregate(new float[4], [new ClientUpdate(new float[4], 1)], default);
    }

    [Theory]
    [InlineData(0.0, 0.9, "serverLearningRate")]
    [InlineData(double.NaN, 0.9, "serverLearningRate")]
    [InlineData(double.PositiveInfinity, 0.9, "serverLearningRate")]
    [InlineData(1.0, 1.0, "momentum")]
    [InlineData(1.0, -0.1, "momentum")]
    public void Refuses_bad_parameters(double eta, double beta, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FedAvgM(eta, beta));
        Assert.Equal(parameter, ex.ParamName);
    }
}
