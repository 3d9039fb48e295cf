using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Skein.Learning.Training;

/// <summary>
/// Scalars that live for the whole process. TorchSharp 0.107 turns every number it is given (and the implicit
/// alpha of 1 in <c>a + b</c>) into a finalizable native Scalar that nothing keeps alive during the native call,
/// so a collection on another thread can free it mid-call (libtorch then fails in <c>Scalar::toFloat</c>). Held
/// scalars close that race on the paths that run every step.
/// </summary>
internal static class HeldScalars
{
    public static readonly Scalar One = 1.0.ToScalar();
}

/// <summary>One optimizer step over a fixed set of parameters, with every scalar operand held by the stepper.</summary>
internal interface IParameterStepper : IDisposable
{
    void ZeroGrad();

    void Step();
}

/// <summary>
/// SGD with optional momentum (no dampening, weight decay or Nesterov), computing exactly what TorchSharp's
/// <c>optim.SGD</c> computes, operation for operation, but with scalars it owns.
/// </summary>
internal sealed class SgdStepper : IParameterStepper
{
    private readonly Parameter[] _parameters;
    private readonly Tensor?[] _momentum;
    private readonly Scalar _negativeRate;
    private readonly Scalar? _momentumFactor;

    public SgdStepper(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0)
    {
        _parameters = parameters.ToArray();
        _momentum = new Tensor?[_parameters.Length];
        _negativeRate = (-learningRate).ToScalar();
        _momentumFactor = momentum == 0 ? null : momentum.ToScalar();
    }

    public void ZeroGrad() => StepperGradients.Zero(_parameters);

    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var grad = _parameters[i].grad;
            if (grad is null)
            {
                continue;
            }
            if (_momentumFactor is { } factor)
            {
                if (_momentum[i] is { } buffer)
                {
                    buffer.mul_(factor).add_(grad, HeldScalars.One);
                }
                else
                {
                    _momentum[i] = grad.clone().detach().DetachFromDisposeScope();
                }
                grad = _momentum[i]!;
            }
            _parameters[i].add_(grad, _negativeRate);
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _momentum)
        {
            buffer?.Dispose();
        }
        _negativeRate.Dispose();
        _momentumFactor?.Dispose();
    }
}

/// <summary>
/// AdamW (decoupled weight decay, no AMSGrad), computing exactly what TorchSharp's <c>optim.AdamW</c> factory
/// computes with its defaults (beta1 0.9, beta2 0.999, eps 1e-8), but with scalars it owns.
/// </summary>
internal sealed class AdamWStepper : IParameterStepper
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly Parameter[] _parameters;
    private readonly Tensor[] _average;
    private readonly Tensor[] _squareAverage;
    private readonly double _learningRate;
    private readonly Scalar _decay;
    private readonly Scalar _beta1;
    private readonly Scalar _oneMinusBeta1;
    private readonly Scalar _beta2;
    private readonly Scalar _oneMinusBeta2;
    private readonly Scalar _epsilon;
    private long _step;

    public AdamWStepper(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
    {
        _parameters = parameters.ToArray();
        _average = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _squareAverage = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _learningRate = learningRate;
        _decay = (1 - (learningRate * weightDecay)).ToScalar();
        _beta1 = Beta1.ToScalar();
        _oneMinusBeta1 = (1 - Beta1).ToScalar();
        _beta2 = Beta2.ToScalar();
        _oneMinusBeta2 = (1 - Beta2).ToScalar();
        _epsilon = Epsilon.ToScalar();
    }

    public void ZeroGrad() => StepperGradients.Zero(_parameters);

    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _step++;
        var correction1 = 1 - Math.Pow(Beta1, _step);
        var correction2 = 1 - Math.Pow(Beta2, _step);
        using var rootCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var stepSize = (-(_learningRate / correction1)).ToScalar();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var grad = _parameters[i].grad;
            if (grad is null)
            {
                continue;
            }
            _parameters[i].mul_(_decay);
            _average[i].mul_(_beta1).add_(grad, _oneMinusBeta1);
            _squareAverage[i].mul_(_beta2).addcmul_(grad, grad, _oneMinusBeta2);
            var denominator = _squareAverage[i].sqrt().div_(rootCorrection2).add_(_epsilon, HeldScalars.One);
            _parameters[i].addcdiv_(_average[i], denominator, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _average.Concat(_squareAverage))
        {
            t.Dispose();
        }
        foreach (var s in new[] { _decay, _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon })
        {
            s.Dispose();
        }
    }
}

/// <summary>Zeroes gradients in place, as TorchSharp's optimizers do, so that backward accumulates into zeros.</summary>
internal static class StepperGradients
{
    public static void Zero(Parameter[] parameters)
    {
        foreach (var p in parameters)
        {
            using var grad = p.grad;
            if (grad is not null)
            {
                grad.zero_();
            }
        }
    }
}
