using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Skein.Learning.Language;

/// <summary>A LoRA adapter's two matrices for one linear layer and its scale alpha / r.</summary>
internal sealed record LoraSlot(Parameter A, Parameter B, Scalar Scale);

/// <summary>
/// A linear layer whose parameters are registered by hand as <c>weight</c> and <c>bias</c> (GPT-2's names),
/// with an optional LoRA adapter that is deliberately not registered, so that the base layout is the same with
/// or without one.
/// </summary>
internal sealed class AdaptableLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight;
    private readonly Parameter _bias;

    public AdaptableLinear(string name, long inFeatures, long outFeatures) : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = new Parameter(zeros(outFeatures, inFeatures));
        _bias = new Parameter(zeros(outFeatures));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    public LoraSlot? Lora { get; set; }

    public override Tensor forward(Tensor input)
    {
        var y = nn.functional.linear(input, _weight, _bias);
        if (Lora is not { } lora)
        {
            return y;
        }
        // x A^T B^T rather than x (B A)^T: two thin products instead of materialising the dense out x in delta.
        var up = nn.functional.linear(nn.functional.linear(input, lora.A), lora.B);
        return y.add(up, lora.Scale);
    }
}

/// <summary>Causal multi-head self-attention with one fused q, k, v projection as in GPT-2.</summary>
internal sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;

    public CausalSelfAttention(TransformerConfig config) : base("attn")
    {
        _heads = config.Heads;
        CAttn = new AdaptableLinear("c_attn", config.Width, 3L * config.Width);
        CProj = new AdaptableLinear("c_proj", config.Width, config.Width);
        register_module("c_attn", CAttn);
        register_module("c_proj", CProj);
    }

    public AdaptableLinear CAttn { get; }

    public AdaptableLinear CProj { get; }

    public override Tensor forward(Tensor input)
    {
        var (batch, time, width) = (input.shape[0], input.shape[1], input.shape[2]);
        var headWidth = width / _heads;
        var qkv = CAttn.call(input).split(width, dim: 2);
        var q = qkv[0].view(batch, time, _heads, headWidth).transpose(1, 2);
        var k = qkv[1].view(batch, time, _heads, headWidth).transpose(1, 2);
        var v = qkv[2].view(batch, time, _heads, headWidth).transpose(1, 2);
        // TorchSharp 0.107 spells PyTorch's is_causal "is_casual".
        var y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        return CProj.call(y.transpose(1, 2).contiguous().view(batch, time, width));
    }
}

/// <summary>GPT-2's MLP: width to 4x width, GELU, back to width.</summary>
internal sealed class TransformerMlp : nn.Module<Tensor, Tensor>
{
    public TransformerMlp(TransformerConfig config) : base("mlp")
    {
        CFc = new AdaptableLinear("c_fc", config.Width, 4L * config.Width);
        CProj = new AdaptableLinear("c_proj", 4L * config.Width, config.Width);
        register_module("c_fc", CFc);
        register_module("c_proj", CProj);
    }

    public AdaptableLinear CFc { get; }

    public AdaptableLinear CProj { get; }

    // GPT-2's tanh approximation of GELU, so that imported GPT-2 weights compute what they did.
    public override Tensor forward(Tensor input) =>
        CProj.call(nn.functional.gelu(CFc.call(input), TorchSharp.Modules.GELU.Approximate.tanh));
}

/// <summary>One pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _ln1;
    private readonly nn.Module<Tensor, Tensor> _ln2;

    public TransformerBlock(TransformerConfig config, int index) : base($"h.{index}")
    {
        _ln1 = nn.LayerNorm(config.Width, TransformerConfig.LayerNormEpsilon);
        Attention = new CausalSelfAttention(config);
        _ln2 = nn.LayerNorm(config.Width, TransformerConfig.LayerNormEpsilon);
        Mlp = new TransformerMlp(config);
        register_module("ln_1", _ln1);
        register_module("attn", Attention);
        register_module("ln_2", _ln2);
        register_module("mlp", Mlp);
    }

    public CausalSelfAttention Attention { get; }

    public TransformerMlp Mlp { get; }

    public override Tensor forward(Tensor input)
    {
        var x = input.add(Attention.call(_ln1.call(input)), Training.HeldScalars.One);
        return x.add(Mlp.call(_ln2.call(x)), Training.HeldScalars.One);
    }
}

/// <summary>The decoder: token and position embeddings, the blocks, a final LayerNorm, an LM head tied to wte.</summary>
internal sealed class ByteTransformer : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding _wte;
    private readonly TorchSharp.Modules.Embedding _wpe;
    private readonly nn.Module<Tensor, Tensor> _lnF;

    public ByteTransformer(TransformerConfig config) : base("transformer")
    {
        Config = config;
        _wte = nn.Embedding(config.Vocabulary, config.Width);
        _wpe = nn.Embedding(config.Context, config.Width);
        Blocks = Enumerable.Range(0, config.Layers).Select(i => new TransformerBlock(config, i)).ToArray();
        _lnF = nn.LayerNorm(config.Width, TransformerConfig.LayerNormEpsilon);
        register_module("wte", _wte);
        register_module("wpe", _wpe);
        register_module("h", nn.ModuleList(Blocks.ToArray()));
        register_module("ln_f", _lnF);
    }

    public TransformerConfig Config { get; }

    public IReadOnlyList<TransformerBlock> Blocks { get; }

    /// <summary>Token ids [batch, time] (int64, time at most the context) to logits [batch, time, vocabulary].</summary>
    public override Tensor forward(Tensor input)
    {
        var time = input.shape[1];
        using var stop = time.ToScalar();
        using var positions = arange(stop, dtype: ScalarType.Int64, device: input.device);
        var x = _wte.call(input).add(_wpe.call(positions), Training.HeldScalars.One);
        foreach (var block in Blocks)
        {
            x = block.call(x);
        }
        return nn.functional.linear(_lnF.call(x), _wte.weight!);
    }
}
