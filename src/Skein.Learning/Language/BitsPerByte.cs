using static TorchSharp.torch;

namespace Skein.Learning.Language;

/// <summary>
/// A language model's bits per character (here per byte) on a text, and how many bytes were scored; a
/// diverged model gives a non-finite value rather than an exception.
/// </summary>
public readonly record struct BpcResult(double BitsPerByte, long BytesScored)
{
    public bool IsFinite => double.IsFinite(BitsPerByte);

    /// <summary>Bytes whose most likely prediction was the byte that came (top-1 next-byte accuracy = Correct / BytesScored).</summary>
    public long Correct { get; init; }

    public double Accuracy => BytesScored == 0 ? 0 : (double)Correct / BytesScored;
}

/// <summary>Bits per character of a byte-level model on held-out bytes.</summary>
public static class BitsPerByte
{
    /// <summary>
    /// Total negative log-likelihood in nats of the scored bytes / ln 2 / bytes scored. The text is cut into
    /// non-overlapping windows of the context length (stride = context): a window's inputs are bytes [s, s + C)
    /// and its targets [s + 1, s + C + 1), so every byte but the text's first is scored exactly once, and the
    /// context starts afresh at each window (the first targets of a window have little context, which makes
    /// this a slightly pessimistic figure next to a sliding window). The last window may be shorter.
    /// </summary>
    public static BpcResult Bpc(TransformerModel model, ReadOnlySpan<byte> text, int windowsPerBatch = 16, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowsPerBatch);
        if (!model.Config.IsByteLevel)
        {
            throw new ArgumentException($"bits per byte needs a byte-level model (vocabulary {TransformerConfig.ByteVocabulary}), this one has {model.Config.Vocabulary} tokens", nameof(model));
        }
        if (text.Length < 2)
        {
            throw new ArgumentException($"scoring needs at least 2 bytes, got {text.Length}", nameof(text));
        }
        var context = model.Config.Context;
        var scored = text.Length - 1;
        var fullWindows = scored / context;
        model.Module.eval();
        using var noGrad = no_grad();
        var inputs = new long[windowsPerBatch * context];
        var targets = new long[inputs.Length];
        double nats = 0;
        long correct = 0;
        for (var first = 0; first < fullWindows; first += windowsPerBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var windows = Math.Min(windowsPerBatch, fullWindows - first);
            var (n, c) = Score(model, text, first * context, windows, context, inputs, targets);
            nats += n;
            correct += c;
        }
        var rest = scored - (fullWindows * context);
        if (rest > 0)
        {
            var (n, c) = Score(model, text, fullWindows * context, 1, rest, inputs, targets);
            nats += n;
            correct += c;
        }
        return new BpcResult(nats / Math.Log(2) / scored, scored) { Correct = correct };
    }

    private static (double Nats, long Correct) Score(TransformerModel model, ReadOnlySpan<byte> text, int start, int windows, int length, long[] inputs, long[] targets)
    {
        var count = windows * length;
        for (var i = 0; i < count; i++)
        {
            inputs[i] = text[start + i];
            targets[i] = text[start + i + 1];
        }
        using var scope = NewDisposeScope();
        var x = tensor(inputs.AsSpan(0, count).ToArray(), [windows, length]);
        var y = tensor(targets.AsSpan(0, count).ToArray(), [count]);
        var logits = model.Forward(x).view(-1, model.Config.Vocabulary);
        // Summed in float64 so that long texts do not lose the small terms.
        var correct = logits.argmax(1).eq(y).sum().item<long>();
        return (nn.functional.cross_entropy(logits.to_type(ScalarType.Float64), y, reduction: nn.Reduction.Sum).item<double>(), correct);
    }
}
