using Skein.Learning.Language;
using Skein.Learning.Models;
using Skein.Learning.Training;
using Skein.Learning.Tests.Language;
using TorchSharp;
using static TorchSharp.torch;

namespace Skein.Learning.Tests;

/// <summary>
/// The optimizers that hold their own scalars must compute, bit for bit, what TorchSharp's optimizers compute:
/// the federated figures and every verified round depend on it.
/// </summary>
public sealed class HeldScalarOptimizerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.9)]
    public void Sgd_matches_torchsharp_bit_for_bit(double momentum)
    {
        var (ours, theirs) = TrainTwice(
            parameters => new SgdStepper(parameters, 0.05, momentum),
            parameters => optim.SGD(parameters, 0.05, momentum));
        Assert.Equal(theirs, ours);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void AdamW_matches_torchsharp_bit_for_bit(double weightDecay)
    {
        var (ours, theirs) = TrainTwice(
            parameters => new AdamWStepper(parameters, 3e-3, weightDecay),
            parameters => optim.AdamW(parameters, 3e-3, weight_decay: weightDecay));
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void Sgd_trains_the_2nn_as_torchsharp_does()
    {
        using var a = TorchModel.Create(ModelKind.Mlp2NN);
        using var b = TorchModel.Create(ModelKind.Mlp2NN);
        var initial = TorchModel.InitialParameters(a.Layout, 5);
        a.Load(initial);
        b.Load(initial);
        using var x = randn([32, 784], generator: new Generator(7));
        using var y = randint(0, 10, [32], generator: new Generator(8));
        using (var ours = new SgdStepper(a.Parameters, 0.1, 0.5))
        using (var theirs = optim.SGD(b.Parameters, 0.1, 0.5))
        {
            for (var step = 0; step < 4; step++)
            {
                using var scope = NewDisposeScope();
                ours.ZeroGrad();
                nn.functional.cross_entropy(a.Module.call(x), y).backward();
                ours.Step();
                theirs.zero_grad();
                nn.functional.cross_entropy(b.Module.call(x), y).backward();
                theirs.step();
            }
        }
        var trained = a.ToFlat();
        Assert.Equal(b.ToFlat(), trained);
        Assert.NotEqual(initial, trained);
    }

    private static (float[] Ours, float[] Theirs) TrainTwice(
        Func<IEnumerable<TorchSharp.Modules.Parameter>, IParameterStepper> ours,
        Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> theirs)
    {
        var config = TransformerConfig.Tiny;
        var initial = config.InitialParameters(11);
        var text = TransformerTests.RepetitiveText(4 * (config.Context + 1));
        var tokens = text.Select(b => (long)b).ToArray();
        using var a = TransformerModel.Create(config);
        using var b = TransformerModel.Create(config);
        a.Load(initial);
        b.Load(initial);
        using (var stepper = ours(a.Parameters))
        using (var optimizer = theirs(b.Parameters))
        {
            for (var step = 0; step < 3; step++)
            {
                using var scope = NewDisposeScope();
                var x = tensor(tokens.AsSpan(step, config.Context).ToArray(), [1, config.Context]);
                var y = tensor(tokens.AsSpan(step + 1, config.Context).ToArray(), [config.Context]);
                stepper.ZeroGrad();
                nn.functional.cross_entropy(a.Forward(x).view(-1, config.Vocabulary), y).backward();
                stepper.Step();
                optimizer.zero_grad();
                nn.functional.cross_entropy(b.Forward(x).view(-1, config.Vocabulary), y).backward();
                optimizer.step();
            }
        }
        var trained = a.ToFlat();
        Assert.NotEqual(initial, trained);
        return (trained, b.ToFlat());
    }
}
