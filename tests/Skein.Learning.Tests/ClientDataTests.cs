using System.Runtime.InteropServices;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Training;
using static TorchSharp.torch;

namespace Skein.Learning.Tests;

public sealed class ClientDataTests
{
    // Every pixel value 0-255 appears, in an order that is neither sorted nor periodic in the row length.
    private static (IdxArray Images, IdxArray Labels) Idx(int n, int rows = 4, int columns = 7)
    {
        var pixels = new byte[n * rows * columns];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 37) + (i / 256));
        }
        var labels = Enumerable.Range(0, n).Select(i => (byte)((i * 3) % 10)).ToArray();
        return (new IdxArray([n, rows, columns], pixels), new IdxArray([n], labels));
    }

    private static float[] Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.contiguous().bytes).ToArray();

    [Fact]
    public void Rows_read_from_bytes_are_the_managed_path_s_floats_to_the_bit()
    {
        var (images, labels) = Idx(40);
        var managed = LabeledImages.FromIdx(images, labels, "train");
        var all = Enumerable.Range(0, 40).ToArray();
        using var reference = new ClientData(managed, all);
        using var fromBytes = ClientData.FromIdx(images, labels, "train");

        long[] order = [39, 0, 17, 17, 5, 22];
        using var index = tensor(order);
        using var expected = reference.Rows(index);
        using var actual = fromBytes.Rows(index);
        Assert.Equal(new long[] { 6, 28 }, actual.shape);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.Equal(Floats(expected).Select(BitConverter.SingleToInt32Bits), Floats(actual).Select(BitConverter.SingleToInt32Bits));

        using var range = fromBytes.Range(10, 25);
        Assert.Equal(managed.Features.AsSpan(10 * 28, 25 * 28).ToArray().Select(BitConverter.SingleToInt32Bits), Floats(range).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(reference.Labels.data<long>().ToArray(), fromBytes.Labels.data<long>().ToArray());
        Assert.Equal(Floats(reference.Features), Floats(fromBytes.Features));
    }

    [Fact]
    public void Evaluation_and_training_from_bytes_match_the_float_path()
    {
        var (images, labels) = Idx(60, 28, 28);
        var managed = LabeledImages.FromIdx(images, labels, "train");
        using var reference = new ClientData(managed, Enumerable.Range(0, 60).ToArray());
        using var fromBytes = ClientData.FromIdx(images, labels, "train");
        using var a = TorchModel.Create(ModelKind.Mlp2NN);
        using var b = TorchModel.Create(ModelKind.Mlp2NN);
        var initial = TorchModel.InitialParameters(a.Layout, 7);
        a.Load(initial);
        b.Load(initial);
        var options = new TrainingOptions(Epochs: 2, BatchSize: 8, LearningRate: 0.1);
        var ra = LocalTrainer.Train(a, reference, options, seed: 3, TestContext.Current.CancellationToken);
        var rb = LocalTrainer.Train(b, fromBytes, options, seed: 3, TestContext.Current.CancellationToken);
        Assert.Equal(ra.MeanLoss, rb.MeanLoss);
        Assert.NotEqual(initial, a.ToFlat());
        Assert.Equal(a.ToFlat(), b.ToFlat());
        Assert.Equal(Evaluator.Evaluate(a, reference, batchSize: 7, TestContext.Current.CancellationToken), Evaluator.Evaluate(b, fromBytes, batchSize: 7, TestContext.Current.CancellationToken));
    }
}
