using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using static TorchSharp.torch;

namespace Skein.Learning.Tests;

public sealed class ModelTests
{
    [Theory]
    [InlineData(ModelKind.LogReg, 7_850)]
    [InlineData(ModelKind.Mlp2NN, 199_210)]
    [InlineData(ModelKind.Cnn, 1_663_370)]
    public void Parameter_counts_match_the_paper(ModelKind kind, int expected)
    {
        using var model = TorchModel.Create(kind);
        Assert.Equal(expected, model.Layout.TotalCount);
    }

    [Theory]
    [InlineData(ModelKind.LogReg)]
    [InlineData(ModelKind.Mlp2NN)]
    [InlineData(ModelKind.Cnn)]
    public void Safetensors_round_trip_restores_the_same_function(ModelKind kind)
    {
        using var source = TorchModel.Create(kind);
        source.Load(TorchModel.InitialParameters(source.Layout, 7));
        var bytes = source.Layout.ToSafeTensors(source.ToFlat());

        using var target = TorchModel.Create(kind);
        target.Load(target.Layout.FromSafeTensors(SafeTensors.Parse(bytes)));

        Assert.Equal(source.ToFlat(), target.ToFlat());
        Assert.Equal(bytes, target.Layout.ToSafeTensors(target.ToFlat()));
        using var x = randn(5, TorchModel.InputFeatures, generator: new TorchSharp.torch.Generator(3));
        using var a = source.Module.call(x);
        using var b = target.Module.call(x);
        Assert.True(a.eq(b).all().item<bool>(), "outputs differ after the round trip");
        Assert.Equal(new long[] { 5, 10 }, a.shape);
    }

    [Fact]
    public void Safetensors_names_follow_the_fixed_layout_order()
    {
        using var model = TorchModel.Create(ModelKind.Cnn);
        var doc = SafeTensors.Parse(model.Layout.ToSafeTensors(model.ToFlat()));
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], doc.Tensors.Select(t => t.Name));
        Assert.Equal([32L, 1, 5, 5], doc["conv1.weight"].Shape);
    }

    [Fact]
    public void Loading_a_vector_of_the_wrong_length_is_refused()
    {
        using var model = TorchModel.Create(ModelKind.LogReg);
        var ex = Assert.Throws<ArgumentException>(() => model.Load(new float[10]));
        Assert.Contains("7850", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initial_parameters_are_seeded_and_bounded_by_fan_in()
    {
        using var model = TorchModel.Create(ModelKind.Mlp2NN);
        var a = TorchModel.InitialParameters(model.Layout, 1);
        Assert.Equal(a, TorchModel.InitialParameters(model.Layout, 1));
        Assert.NotEqual(a, TorchModel.InitialParameters(model.Layout, 2));
        var fc1 = a.AsSpan(0, 200 * 784);
        var bound = 1 / Math.Sqrt(784);
        foreach (var v in fc1)
        {
            Assert.InRange(v, -bound, bound);
        }
        var fc3Bias = a.AsSpan(model.Layout.OffsetOf(5), 10);
        foreach (var v in fc3Bias)
        {
            Assert.InRange(v, -1 / Math.Sqrt(200), 1 / Math.Sqrt(200));
        }
    }
}

public sealed class TrainingTests
{
    /// <summary>Linearly separable data: each class raises its own block of 60 features.</summary>
    internal static LabeledImages Synthetic(int n, int seed) => SyntheticImages.Create(n, (ulong)seed, signal: 1f, blockSize: 60);

    [Theory]
    [InlineData(ModelKind.LogReg)]
    [InlineData(ModelKind.Mlp2NN)]
    [InlineData(ModelKind.Cnn)]
    public void A_few_sgd_steps_lower_the_loss(ModelKind kind)
    {
        var set = Synthetic(200, 1);
        using var data = new ClientData(set, Enumerable.Range(0, set.Count).ToArray());
        using var model = TorchModel.Create(kind);
        model.Load(TorchModel.InitialParameters(model.Layout, 1));
        var before = Evaluator.Evaluate(model, data, cancellationToken: TestContext.Current.CancellationToken);

        var result = LocalTrainer.Train(model, data, new TrainingOptions(2, 20, 0.1), seed: 3, TestContext.Current.CancellationToken);

        var after = Evaluator.Evaluate(model, data, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(20, result.Steps);
        Assert.Equal(400, result.Samples);
        Assert.True(after.Loss < before.Loss * 0.9, $"loss {before.Loss} -> {after.Loss}");
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        var set = Synthetic(100, 2);
        using var data = new ClientData(set, Enumerable.Range(0, set.Count).ToArray());
        float[] Run(ulong seed)
        {
            using var model = TorchModel.Create(ModelKind.Mlp2NN);
            model.Load(TorchModel.InitialParameters(model.Layout, 1));
            LocalTrainer.Train(model, data, new TrainingOptions(2, 10, 0.1), seed, TestContext.Current.CancellationToken);
            return model.ToFlat();
        }
        var a = Run(5);
        Assert.Equal(a, Run(5));
        Assert.NotEqual(a, Run(6));
    }

    [Fact]
    public void Evaluation_counts_correct_predictions()
    {
        var set = Synthetic(50, 3);
        using var data = new ClientData(set, Enumerable.Range(0, set.Count).ToArray());
        using var model = TorchModel.Create(ModelKind.LogReg);
        // Class k's weights sum its block of features: this predicts the planted label.
        var flat = new float[model.Layout.TotalCount];
        for (var k = 0; k < 10; k++)
        {
            for (var j = 0; j < 60; j++)
            {
                flat[(k * 784) + (k * 60) + j] = 1f;
            }
        }
        model.Load(flat);
        var eval = Evaluator.Evaluate(model, data, batchSize: 7, TestContext.Current.CancellationToken);
        Assert.Equal(50, eval.Count);
        Assert.True(eval.Accuracy > 0.95, $"accuracy {eval.Accuracy}");
        Assert.Equal(eval.Correct / 50.0, eval.Accuracy);
    }

    [Theory]
    [InlineData(0, 10, 0.1, "epochs")]
    [InlineData(1, 0, 0.1, "batch size")]
    [InlineData(1, 10, -1.0, "learning rate")]
    [InlineData(1, 10, double.NaN, "learning rate")]
    public void Invalid_training_options_are_refused(int epochs, int batch, double lr, string field)
    {
        var set = Synthetic(10, 4);
        using var data = new ClientData(set, Enumerable.Range(0, set.Count).ToArray());
        using var model = TorchModel.Create(ModelKind.LogReg);
        var ex = Assert.Throws<ArgumentException>(() => LocalTrainer.Train(model, data, new TrainingOptions(epochs, batch, lr), 1, TestContext.Current.CancellationToken));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }
}

public sealed class ModelLayoutTests
{
    [Theory]
    [InlineData(ModelKind.LogReg)]
    [InlineData(ModelKind.Mlp2NN)]
    [InlineData(ModelKind.Cnn)]
    public void The_static_layout_equals_the_module_layout(ModelKind kind)
    {
        using var model = TorchModel.Create(kind);
        var expected = model.Layout.Parameters.Select(p => (p.Name, string.Join("x", p.Shape))).ToArray();
        var actual = ModelLayouts.For(kind).Parameters.Select(p => (p.Name, string.Join("x", p.Shape))).ToArray();
        Assert.Equal(expected, actual);
    }
}
