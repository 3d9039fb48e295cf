using Skein.Aggregation;

namespace Skein.Aggregation.Tests;

public sealed class StrategyFactoryTests
{
    private static StrategySpec Spec(string name, params (string Key, double Value)[] parameters) =>
        new(name, parameters.ToDictionary(p => p.Key, p => p.Value));

    private static string ErrorOf(StrategySpec spec) => Assert.Throws<ArgumentException>(() => StrategyFactory.Create(spec)).Message;

    public static TheoryData<string, Type> Known => new()
    {
        { "fedavg", typeof(FedAvg) },
        { "fedavgm", typeof(FedAvgM) },
        { "fedadagrad", typeof(FedAdagrad) },
        { "fedadam", typeof(FedAdam) },
        { "fedyogi", typeof(FedYogi) },
        { "median", typeof(CoordinateMedian) },
        { "trimmed_mean", typeof(TrimmedMean) },
        { "krum", typeof(Krum) },
        { "multikrum", typeof(MultiKrum) },
        { "bulyan", typeof(Bulyan) },
    };

    [Theory]
    [MemberData(nameof(Known))]
    public void Builds_each_strategy_by_name(string name, Type type)
    {
        Assert.Contains(name, StrategyFactory.Names);
        var spec = StrategyFactory.ParametersOf(name).Contains("f") ? Spec(name, ("f", 1)) : new StrategySpec(name);
        var strategy = StrategyFactory.Create(spec);
        Assert.IsType(type, strategy);
        Assert.Equal(name, strategy.Name);
    }

    [Fact]
    public void Passes_parameters_through_and_defaults_the_rest()
    {
        var adam = Assert.IsType<FedAdam>(StrategyFactory.Create(Spec("fedadam", ("server_lr", 0.3), ("beta2", 0.9))));
        Assert.Equal((0.3, 0.9, 0.9, 1e-9), (adam.Eta, adam.Beta1, adam.Beta2, adam.Tau));
        var avgm = Assert.IsType<FedAvgM>(StrategyFactory.Create(Spec("fedavgm", ("momentum", 0))));
        Assert.Equal((1.0, 0.0), (avgm.ServerLearningRate, avgm.Momentum));
        var yogi = Assert.IsType<FedYogi>(StrategyFactory.Create(new StrategySpec("fedyogi")));
        Assert.Equal((0.01, 1e-3), (yogi.Eta, yogi.Tau));
        Assert.Equal(0.2, Assert.IsType<TrimmedMean>(StrategyFactory.Create(new StrategySpec("trimmed_mean"))).Beta);
        var multi = Assert.IsType<MultiKrum>(StrategyFactory.Create(Spec("multikrum", ("f", 2), ("m", 4))));
        Assert.Equal((2, (int?)4), (multi.F, multi.M));
        Assert.Null(Assert.IsType<MultiKrum>(StrategyFactory.Create(Spec("multikrum", ("f", 2)))).M);
        Assert.Equal(3, Assert.IsType<Bulyan>(StrategyFactory.Create(Spec("bulyan", ("f", 3)))).F);
    }

    [Fact]
    public void Clip_norm_wraps_any_strategy_in_norm_clipping()
    {
        var clipped = Assert.IsType<NormClipping>(StrategyFactory.Create(Spec("krum", ("f", 1), ("clip_norm", 2.5))));
        Assert.Equal(2.5, clipped.MaxNorm);
        Assert.Equal(1, Assert.IsType<Krum>(clipped.Inner).F);
        Assert.Equal("krum", clipped.Name);
        Assert.IsType<FedAvg>(Assert.IsType<NormClipping>(StrategyFactory.Create(Spec("fedavg", ("clip_norm", 1)))).Inner);
    }

    [Fact]
    public void Unknown_names_list_the_valid_ones()
    {
        var message = ErrorOf(new StrategySpec("fedsgd"));
        Assert.StartsWith("strategy.name: unknown strategy 'fedsgd'; valid names are fedavg, fedavgm,", message);
        Assert.Contains("FedAvg", ErrorOf(new StrategySpec("FedAvg")));
    }

    [Fact]
    public void Unknown_parameters_are_named()
    {
        Assert.StartsWith(
            "strategy.parameters.momentum: unknown parameter for 'fedadam'; it takes server_lr, beta1, beta2, tau, clip_norm",
            ErrorOf(Spec("fedadam", ("momentum", 0.9))));
        Assert.StartsWith("strategy.parameters.beta2: unknown parameter for 'fedadagrad'", ErrorOf(Spec("fedadagrad", ("beta2", 0.9))));
        Assert.StartsWith("strategy.parameters.f: unknown parameter for 'median'", ErrorOf(Spec("median", ("f", 1))));
    }

    [Theory]
    [InlineData("trimmed_mean", "beta", 0.7, "strategy.parameters.beta: must be in [0, 0.5), got 0.7")]
    [InlineData("fedavgm", "momentum", 1, "strategy.parameters.momentum: must be in [0, 1), got 1")]
    [InlineData("fedavgm", "server_lr", -1, "strategy.parameters.server_lr: must be a finite number > 0 (as float32), got -1")]
    [InlineData("fedadam", "beta1", double.NaN, "strategy.parameters.beta1: must be in [0, 1), got NaN")]
    [InlineData("fedyogi", "tau", 0, "strategy.parameters.tau: must be a finite number > 0 (as float32), got 0")]
    [InlineData("krum", "f", 1.5, "strategy.parameters.f: must be an integer in [0, 100000], got 1.5")]
    [InlineData("bulyan", "f", -1, "strategy.parameters.f: must be an integer in [0, 100000], got -1")]
    [InlineData("multikrum", "m", 0, "strategy.parameters.m: must be an integer in [1, 1000000], got 0")]
    [InlineData("median", "clip_norm", 0, "strategy.parameters.clip_norm: must be a finite number > 0 (as float32), got 0")]
    public void Out_of_range_values_name_the_field_and_the_rule(string name, string key, double value, string expected)
    {
        var parameters = new Dictionary<string, double> { [key] = value };
        if (name is "krum" or "bulyan" or "multikrum" && key != "f")
        {
            parameters["f"] = 1;
        }
        var ex = Assert.Throws<ArgumentException>(() => StrategyFactory.Create(new StrategySpec(name, parameters)));
        Assert.StartsWith(expected, ex.Message);
        Assert.Equal("spec", ex.ParamName);
    }

    [Fact]
    public void Byzantine_strategies_require_f()
    {
        Assert.StartsWith("strategy.parameters.f: required by 'bulyan' (must be an integer in [0, 100000])", ErrorOf(new StrategySpec("bulyan")));
        Assert.StartsWith("strategy.parameters.f: required by 'multikrum'", ErrorOf(Spec("multikrum", ("m", 3))));
    }

    [Fact]
    public void Lists_names_in_registration_order()
    {
        Assert.Equal(
            ["fedavg", "fedavgm", "fedadagrad", "fedadam", "fedyogi", "median", "trimmed_mean", "krum", "multikrum", "bulyan"],
            StrategyFactory.Names.Where(n => n != "dpfedavg"));
        Assert.Throws<ArgumentNullException>(() => StrategyFactory.Create(null!));
    }
}
