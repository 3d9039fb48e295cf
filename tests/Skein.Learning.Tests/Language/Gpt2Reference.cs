namespace Skein.Learning.Tests.Language;

/// <summary>
/// GPT-2's forward pass in plain double arithmetic on Hugging Face's tensors (Conv1D: y = x W + b with W
/// [in, out]), written from the GPT-2 definition and sharing no code with the TorchSharp model.
/// </summary>
internal static class Gpt2Reference
{
    public static double[][] Logits(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> t, int layers, int heads, int width, int vocabulary, int[] tokens)
    {
        var time = tokens.Length;
        var wte = t["wte.weight"].Values;
        var wpe = t["wpe.weight"].Values;
        var x = new double[time][];
        for (var p = 0; p < time; p++)
        {
            x[p] = new double[width];
            for (var j = 0; j < width; j++)
            {
                x[p][j] = wte[(tokens[p] * width) + j] + (double)wpe[(p * width) + j];
            }
        }
        var headWidth = width / heads;
        for (var l = 0; l < layers; l++)
        {
            var h = $"h.{l}.";
            var a = x.Select(row => LayerNorm(row, t[h + "ln_1.weight"].Values, t[h + "ln_1.bias"].Values)).ToArray();
            var qkv = a.Select(row => Conv1D(row, t[h + "attn.c_attn.weight"].Values, t[h + "attn.c_attn.bias"].Values)).ToArray();
            var attended = new double[time][];
            for (var p = 0; p < time; p++)
            {
                attended[p] = new double[width];
                for (var hd = 0; hd < heads; hd++)
                {
                    var q = hd * headWidth;
                    var k = width + q;
                    var v = (2 * width) + q;
                    // Causal: position p sees 0..p.
                    var scores = new double[p + 1];
                    for (var s = 0; s <= p; s++)
                    {
                        double dot = 0;
                        for (var d = 0; d < headWidth; d++)
                        {
                            dot += qkv[p][q + d] * qkv[s][k + d];
                        }
                        scores[s] = dot / Math.Sqrt(headWidth);
                    }
                    var max = scores.Max();
                    var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = weights.Sum();
                    for (var s = 0; s <= p; s++)
                    {
                        for (var d = 0; d < headWidth; d++)
                        {
                            attended[p][q + d] += weights[s] / sum * qkv[s][v + d];
                        }
                    }
                }
            }
            for (var p = 0; p < time; p++)
            {
                Add(x[p], Conv1D(attended[p], t[h + "attn.c_proj.weight"].Values, t[h + "attn.c_proj.bias"].Values));
                var m = LayerNorm(x[p], t[h + "ln_2.weight"].Values, t[h + "ln_2.bias"].Values);
                var f = Conv1D(m, t[h + "mlp.c_fc.weight"].Values, t[h + "mlp.c_fc.bias"].Values).Select(GeluNew).ToArray();
                Add(x[p], Conv1D(f, t[h + "mlp.c_proj.weight"].Values, t[h + "mlp.c_proj.bias"].Values));
            }
        }
        return x.Select(row =>
        {
            var n = LayerNorm(row, t["ln_f.weight"].Values, t["ln_f.bias"].Values);
            var logits = new double[vocabulary];
            for (var token = 0; token < vocabulary; token++)
            {
                for (var j = 0; j < width; j++)
                {
                    logits[token] += n[j] * wte[(token * width) + j];
                }
            }
            return logits;
        }).ToArray();
    }

    private static double[] LayerNorm(double[] x, float[] gain, float[] bias)
    {
        var mean = x.Average();
        var variance = x.Select(v => (v - mean) * (v - mean)).Average();
        var scale = 1 / Math.Sqrt(variance + 1e-5);
        return x.Select((v, j) => ((v - mean) * scale * gain[j]) + bias[j]).ToArray();
    }

    private static double[] Conv1D(double[] x, float[] weight, float[] bias)
    {
        var outputs = bias.Length;
        var y = bias.Select(b => (double)b).ToArray();
        for (var i = 0; i < x.Length; i++)
        {
            for (var o = 0; o < outputs; o++)
            {
                y[o] += x[i] * weight[(i * outputs) + o];
            }
        }
        return y;
    }

    private static double GeluNew(double x) =>
        0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    private static void Add(double[] into, double[] values)
    {
        for (var j = 0; j < into.Length; j++)
        {
            into[j] += values[j];
        }
    }
}
