using System.Collections.ObjectModel;

namespace Skein.Aggregation.Privacy;

/// <summary>
/// Rényi-DP accountant for the Poisson-sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019), composed
/// over steps and converted to (epsilon, delta), as TensorFlow Privacy, Google's dp_accounting and Opacus do.
/// </summary>
/// <remarks>
/// One step is one release of a sum whose L2 sensitivity is bounded (the clip norm) plus Gaussian noise of
/// standard deviation noiseMultiplier times that bound, where each participant was included independently with
/// probability samplingRate (add-or-remove-one adjacency). RDP at each order adds up over steps; epsilon is the
/// minimum over orders of the RDP-to-DP conversion. All arithmetic is double, in log space where it can
/// overflow.
/// </remarks>
public sealed class RdpAccountant
{
    // The series for fractional orders converges only polynomially when the noise is tiny; past this many terms
    // the order is given up (RDP = +inf, i.e. excluded), which can only make epsilon larger, never smaller.
    private const int MaxFractionalTerms = 1_000_000;

    private readonly double[] _orders;
    private readonly double[] _rdp;
    private (double SamplingRate, double NoiseMultiplier, double[] Rdp)? _lastStep;

    /// <summary>
    /// The orders of TensorFlow Privacy's <c>compute_dp_sgd_privacy</c>: 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5,
    /// 4, 4.5, the integers 5 to 63, then 128, 256 and 512.
    /// </summary>
    public static IReadOnlyList<double> DefaultOrders { get; } = Array.AsReadOnly(
        [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, .. Enumerable.Range(5, 59).Select(i => (double)i), 128, 256, 512]);

    /// <summary>The orders of Opacus's <c>RDPAccountant.DEFAULT_ALPHAS</c>: 1.1, 1.2, ..., 10.9, then 12 to 63.</summary>
    public static IReadOnlyList<double> OpacusOrders { get; } = Array.AsReadOnly(
        [.. Enumerable.Range(1, 99).Select(x => 1 + (x / 10.0)), .. Enumerable.Range(12, 52).Select(i => (double)i)]);

    /// <param name="orders">Rényi orders, each finite and &gt; 1; <see cref="DefaultOrders"/> when null.</param>
    public RdpAccountant(IReadOnlyList<double>? orders = null)
    {
        _orders = ValidateOrders(orders ?? DefaultOrders, nameof(orders));
        _rdp = new double[_orders.Length];
    }

    public ReadOnlyCollection<double> Orders => Array.AsReadOnly(_orders);

    /// <summary>The RDP spent so far at each of <see cref="Orders"/>.</summary>
    public ReadOnlyCollection<double> Rdp => Array.AsReadOnly(_rdp);

    /// <summary>The number of steps composed so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Composes <paramref name="steps"/> releases of the sampled Gaussian mechanism.</summary>
    public void Step(double samplingRate, double noiseMultiplier, int steps = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        // Training calls this once per round with the same parameters; the RDP of one step is kept for them.
        if (_lastStep is not { } last || last.SamplingRate != samplingRate || last.NoiseMultiplier != noiseMultiplier)
        {
            last = (samplingRate, noiseMultiplier, ComputeRdp(samplingRate, noiseMultiplier, 1, _orders));
            _lastStep = last;
        }
        if (steps == 0)
        {
            return;
        }
        for (var i = 0; i < _rdp.Length; i++)
        {
            _rdp[i] += last.Rdp[i] * steps;
        }
        StepCount += steps;
    }

    /// <summary>
    /// The smallest epsilon over <see cref="Orders"/> such that everything composed so far is
    /// (epsilon, <paramref name="delta"/>)-DP, and the order that attains it.
    /// </summary>
    /// <param name="delta">The target delta, in (0, 1].</param>
    /// <param name="classicConversion">
    /// False (default): the conversion of Balle et al. 2020 used by current Opacus and dp_accounting. True: the
    /// original one of Mironov 2017, eps = rdp + log(1/delta)/(order - 1), which older published numbers use.
    /// </param>
    public (double Epsilon, double Order) GetEpsilon(double delta, bool classicConversion = false) =>
        ComputeEpsilon(_orders, _rdp, delta, classicConversion);

    /// <summary>
    /// RDP at each order of the sampled Gaussian mechanism with sampling probability <paramref name="samplingRate"/>
    /// and noise multiplier <paramref name="noiseMultiplier"/>, composed <paramref name="steps"/> times.
    /// </summary>
    /// <remarks>
    /// q = 0 costs nothing; q = 1 is the plain Gaussian mechanism, order / (2 sigma^2); sigma = 0 with q &gt; 0 is
    /// not private (+inf). Integer orders use the finite binomial expansion of A_alpha, fractional orders the
    /// two-sided series of Mironov, Talwar and Zhang 2019, section 3.3; both in log space.
    /// </remarks>
    public static double[] ComputeRdp(double samplingRate, double noiseMultiplier, int steps, IReadOnlyList<double> orders)
    {
        if (!(samplingRate >= 0 && samplingRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingRate), samplingRate, "sampling rate must be in [0, 1]");
        }
        if (!(noiseMultiplier >= 0) || double.IsInfinity(noiseMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "noise multiplier must be a finite number >= 0");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var checkedOrders = ValidateOrders(orders, nameof(orders));
        var rdp = new double[checkedOrders.Length];
        if (steps == 0)
        {
            return rdp;
        }
        for (var i = 0; i < rdp.Length; i++)
        {
            rdp[i] = ComputeRdpOfOneStep(samplingRate, noiseMultiplier, checkedOrders[i]) * steps;
        }
        return rdp;
    }

    /// <summary>
    /// Converts RDP values at the given orders to the smallest epsilon for <paramref name="delta"/>, and the order
    /// that attains it; (+inf, NaN) when no order gives a finite bound.
    /// </summary>
    public static (double Epsilon, double Order) ComputeEpsilon(
        IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta, bool classicConversion = false)
    {
        var checkedOrders = ValidateOrders(orders, nameof(orders));
        ArgumentNullException.ThrowIfNull(rdp);
        if (rdp.Count != checkedOrders.Length)
        {
            throw new ArgumentException($"{rdp.Count} RDP values for {checkedOrders.Length} orders", nameof(rdp));
        }
        if (!(delta > 0 && delta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be in (0, 1]");
        }
        var best = double.PositiveInfinity;
        var bestOrder = double.NaN;
        for (var i = 0; i < checkedOrders.Length; i++)
        {
            var r = rdp[i];
            if (double.IsNaN(r) || r < 0)
            {
                throw new ArgumentException($"RDP at order {checkedOrders[i]} is {r}; it must be >= 0", nameof(rdp));
            }
            var eps = classicConversion ? ClassicEpsilon(checkedOrders[i], r, delta) : ImprovedEpsilon(checkedOrders[i], r, delta);
            if (eps < best)
            {
                best = eps;
                bestOrder = checkedOrders[i];
            }
        }
        return (Math.Max(0, best), bestOrder);
    }

    /// <summary>Mironov 2017, Proposition 3.</summary>
    private static double ClassicEpsilon(double order, double rdp, double delta) => rdp - (Math.Log(delta) / (order - 1));

    /// <summary>
    /// Balle, Barthe, Gaboardi, Hsu and Sato 2020, Theorem 21 (Proposition 12 of Canonne, Kamath and Steinke
    /// 2020): eps = rdp - (log(delta) + log(order)) / (order - 1) + log((order - 1) / order), with
    /// dp_accounting's two guards.
    /// </summary>
    private static double ImprovedEpsilon(double order, double rdp, double delta)
    {
        // Total variation is at most sqrt(1 - exp(-KL)) <= sqrt(1 - exp(-rdp)); a delta that large buys eps = 0.
        if ((delta * delta) + LogSpace.Expm1(-rdp) > 0)
        {
            return 0;
        }
        // The bound is numerically unstable as order -> 1 and useless there anyway; dp_accounting skips it too.
        if (order <= 1.01)
        {
            return double.PositiveInfinity;
        }
        return rdp + LogSpace.Log1p(-1 / order) - (Math.Log(delta * order) / (order - 1));
    }

    internal static double ComputeRdpOfOneStep(double q, double sigma, double order)
    {
        if (q == 0)
        {
            return 0;
        }
        if (sigma == 0)
        {
            return double.PositiveInfinity;
        }
        if (q == 1)
        {
            return order / (2 * sigma * sigma);
        }
        // A_alpha >= 1 in exact arithmetic; rounding may put its log a hair below zero.
        return Math.Max(0, ComputeLogA(q, sigma, order) / (order - 1));
    }

    /// <summary>
    /// log A_alpha, where A_alpha = E_{z ~ N(0, sigma^2)} [((1 - q) + q exp((2z - 1) / (2 sigma^2)))^alpha] and the
    /// RDP of one step at order alpha is log(A_alpha) / (alpha - 1); for 0 &lt; q &lt; 1 and sigma &gt; 0.
    /// </summary>
    internal static double ComputeLogA(double q, double sigma, double order) =>
        order == Math.Floor(order) && order <= int.MaxValue
            ? ComputeLogAInteger(q, sigma, (int)order)
            : ComputeLogAFractional(q, sigma, order);

    private static double ComputeLogAInteger(double q, double sigma, int alpha)
    {
        // A_alpha = sum_{i=0}^{alpha} C(alpha, i) q^i (1 - q)^(alpha - i) exp((i^2 - i) / (2 sigma^2)).
        var logQ = Math.Log(q);
        var log1mQ = LogSpace.Log1p(-q);
        var twoSigma2 = 2 * sigma * sigma;
        var logA = double.NegativeInfinity;
        var logBinom = 0.0;
        for (var i = 0; i <= alpha; i++)
        {
            double di = i;
            var term = logBinom + (di * logQ) + ((alpha - di) * log1mQ) + (((di * di) - di) / twoSigma2);
            logA = LogSpace.Add(logA, term);
            // C(alpha, i + 1) = C(alpha, i) (alpha - i) / (i + 1); incremental logs avoid a log-gamma.
            logBinom += Math.Log(alpha - di) - Math.Log(di + 1);
        }
        return logA;
    }

    private static double ComputeLogAFractional(double q, double sigma, double alpha)
    {
        // The integral defining A_alpha is split at z0, where q exp((2z - 1)/(2 sigma^2)) = 1 - q, and each side is
        // expanded with the generalized binomial series that converges there. The coefficients C(alpha, i) change
        // sign once i > alpha + 1, so positive and negative terms are summed apart and subtracted at the end.
        var logQ = Math.Log(q);
        var log1mQ = LogSpace.Log1p(-q);
        var twoSigma2 = 2 * sigma * sigma;
        var sqrt2Sigma = Math.Sqrt(2) * sigma;
        var z0 = (sigma * sigma * (log1mQ - logQ)) + 0.5;
        var logHalf = Math.Log(0.5);

        double pos = double.NegativeInfinity, neg = double.NegativeInfinity;
        double lastS0 = double.PositiveInfinity, lastS1 = double.PositiveInfinity;
        var logAbsBinom = 0.0;
        var positive = true;
        for (var i = 0; i < MaxFractionalTerms; i++)
        {
            double di = i;
            var j = alpha - di;
            var s0 = logAbsBinom + (di * logQ) + (j * log1mQ) + (((di * di) - di) / twoSigma2)
                + logHalf + LogSpace.LogErfc((di - z0) / sqrt2Sigma);
            var s1 = logAbsBinom + (j * logQ) + (di * log1mQ) + (((j * j) - j) / twoSigma2)
                + logHalf + LogSpace.LogErfc((z0 - j) / sqrt2Sigma);
            var s = LogSpace.Add(s0, s1);
            if (positive)
            {
                pos = LogSpace.Add(pos, s);
            }
            else
            {
                neg = LogSpace.Add(neg, s);
            }
            // Past alpha + 1 the terms alternate in sign; once both sides shrink and are e^-30 of the total, the
            // alternating tail is smaller still.
            if (di > alpha + 1 && s0 < lastS0 && s1 < lastS1 && Math.Max(s0, s1) < pos - 30)
            {
                return neg >= pos ? double.PositiveInfinity : pos + LogSpace.Log1p(-Math.Exp(neg - pos));
            }
            lastS0 = s0;
            lastS1 = s1;
            var factor = alpha - di;
            logAbsBinom += Math.Log(Math.Abs(factor)) - Math.Log(di + 1);
            if (factor < 0)
            {
                positive = !positive;
            }
        }
        return double.PositiveInfinity;
    }

    private static double[] ValidateOrders(IReadOnlyList<double> orders, string paramName)
    {
        ArgumentNullException.ThrowIfNull(orders, paramName);
        if (orders.Count == 0)
        {
            throw new ArgumentException("at least one order is needed", paramName);
        }
        var copy = orders.ToArray();
        foreach (var order in copy)
        {
            if (!(order > 1) || double.IsInfinity(order))
            {
                throw new ArgumentOutOfRangeException(paramName, order, "every order must be a finite number > 1");
            }
        }
        return copy;
    }
}
