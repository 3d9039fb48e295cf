using System.Text;
using Skein.Core;
using static TorchSharp.torch;

namespace Skein.Learning.Language;

/// <summary>Samples text from a byte-level model, one byte at a time, deterministically for a seed.</summary>
public static class TextGenerator
{
    /// <summary>
    /// Appends up to <paramref name="maxBytes"/> bytes to <paramref name="prompt"/> (UTF-8), each drawn from the
    /// softmax of the last position's logits divided by <paramref name="temperature"/> (0: the most likely byte,
    /// ties to the lowest), the model seeing the last context-length bytes. Returns the continuation only, decoded
    /// as UTF-8 with invalid sequences replaced by U+FFFD. An empty prompt starts from a newline.
    /// </summary>
    public static string Generate(TransformerModel model, string prompt, int maxBytes, double temperature, ulong seed, CancellationToken cancellationToken = default) =>
        DecodeLenient(GenerateBytes(model, Encoding.UTF8.GetBytes(prompt ?? throw new ArgumentNullException(nameof(prompt))), maxBytes, temperature, seed, cancellationToken));

    /// <summary>The byte form of <see cref="Generate"/>: the continuation's bytes.</summary>
    public static byte[] GenerateBytes(TransformerModel model, ReadOnlySpan<byte> prompt, int maxBytes, double temperature, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (!(temperature >= 0) || double.IsInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be a finite number >= 0");
        }
        if (!model.Config.IsByteLevel)
        {
            throw new ArgumentException($"model: generating bytes needs a byte-level model (vocabulary {TransformerConfig.ByteVocabulary}), this one has {model.Config.Vocabulary} tokens", nameof(model));
        }
        var context = model.Config.Context;
        var window = new List<byte>(prompt.Length + maxBytes + 1);
        window.AddRange(prompt.IsEmpty ? [(byte)'\n'] : prompt);
        var output = new byte[maxBytes];
        var rng = DeterministicRandom.Derive(seed, "language/generate");
        var logits = new float[TransformerConfig.ByteVocabulary];
        model.Module.eval();
        using var noGrad = no_grad();
        for (var i = 0; i < maxBytes; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Math.Max(0, window.Count - context);
            var ids = new long[window.Count - start];
            for (var t = 0; t < ids.Length; t++)
            {
                ids[t] = window[start + t];
            }
            using (NewDisposeScope())
            {
                var last = model.Forward(tensor(ids, [1, ids.Length]))[0, ids.Length - 1];
                last.data<float>().CopyTo(logits, 0);
            }
            var next = temperature == 0 ? ArgMax(logits) : Sample(logits, temperature, rng);
            output[i] = next;
            window.Add(next);
        }
        return output;
    }

    /// <summary>UTF-8 decoding that replaces invalid sequences (e.g. a character cut at the end) with U+FFFD.</summary>
    public static string DecodeLenient(ReadOnlySpan<byte> bytes) => new UTF8Encoding(false, false).GetString(bytes);

    private static byte ArgMax(float[] logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }
        return (byte)best;
    }

    private static byte Sample(float[] logits, double temperature, DeterministicRandom rng)
    {
        var max = logits.Max();
        var weights = new double[logits.Length];
        double total = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            weights[i] = Math.Exp((logits[i] - max) / temperature);
            total += weights[i];
        }
        var u = rng.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            u -= weights[i];
            if (u < 0)
            {
                return (byte)i;
            }
        }
        return ArgMax(logits);
    }
}
