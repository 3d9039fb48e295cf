using Skein.Core;

namespace Skein.Learning.Models;

/// <summary>
/// Each model's parameter layout (names and shapes in <c>named_parameters()</c> order) without building it, so
/// that a coordinator can check an uploaded update's tensors without loading libtorch. A test checks that these
/// equal the layouts of the real TorchSharp modules.
/// </summary>
public static class ModelLayouts
{
    public static ParameterLayout For(ModelKind kind) => kind switch
    {
        ModelKind.LogReg => new([new("fc.weight", [10, 784]), new("fc.bias", [10])]),
        ModelKind.Mlp2NN => new([
            new("fc1.weight", [200, 784]), new("fc1.bias", [200]),
            new("fc2.weight", [200, 200]), new("fc2.bias", [200]),
            new("fc3.weight", [10, 200]), new("fc3.bias", [10])]),
        ModelKind.Cnn => new([
            new("conv1.weight", [32, 1, 5, 5]), new("conv1.bias", [32]),
            new("conv2.weight", [64, 32, 5, 5]), new("conv2.bias", [64]),
            new("fc1.weight", [512, 3136]), new("fc1.bias", [512]),
            new("fc2.weight", [10, 512]), new("fc2.bias", [10])]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
