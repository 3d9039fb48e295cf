using Skein.Aggregation.Privacy;

namespace Skein.Aggregation.Tests.Privacy;

public sealed class RdpAccountantTests
{
    /// <summary>DP-SGD over n examples with the given batch size, as TF Privacy's compute_dp_sgd_privacy counts it.</summary>
    private static (double Epsilon, double Order) DpSgd(int n, int batch, double z, double epochs, double delta, bool classic)
    {
        var accountant = new RdpAccountant();
        accountant.Step((double)batch / n, z, (int)Math.Ceiling(epochs * n / batch));
        return accountant.GetEpsilon(delta, classic);
    }

    // Source: tensorflow/privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py,
    // test_compute_dp_sgd_privacy (current version, which goes through dp_accounting's RdpAccountant, i.e. the
    // improved conversion of Balle et al. 2020). Settings: q = batch / n, steps = ceil(epochs * n / batch),
    // orders = compute_dp_sgd_privacy's list (= RdpAccountant.DefaultOrders).
    [Theory]
    [InlineData(60_000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0)]
    [InlineData(100_000, 100, 1.0, 30, 1e-7, 1.4154988495444845, 13.0)]
    [InlineData(100_000_000, 1024, 0.1, 10, 1e-7, 5907982.31138195, 1.25)]
    public void Matches_tf_privacy_compute_dp_sgd_privacy_with_the_improved_conversion(
        int n, int batch, double z, double epochs, double delta, double expected, double expectedOrder)
    {
        var (eps, order) = DpSgd(n, batch, z, epochs, delta, classic: false);
        Assert.Equal(expected, eps, expected * 1e-9);
        Assert.Equal(expectedOrder, order);
    }

    // Source: the same test in the earlier version of compute_dp_sgd_privacy_test.py, when TF Privacy's
    // rdp_accountant.get_privacy_spent still used the classic conversion eps = rdp + log(1/delta)/(order - 1).
    // Same settings and orders; the difference to the row above is exactly log(a)/(a-1) - log((a-1)/a).
    [Theory]
    [InlineData(60_000, 150, 1.3, 15, 1e-5, 0.941870567, 19.0)]
    [InlineData(100_000, 100, 1.0, 30, 1e-7, 1.70928734, 13.0)]
    [InlineData(100_000_000, 1024, 0.1, 10, 1e-7, 5907984.81339406, 1.25)]
    public void Matches_tf_privacy_compute_dp_sgd_privacy_with_the_classic_conversion(
        int n, int batch, double z, double epochs, double delta, double expected, double expectedOrder)
    {
        var (eps, order) = DpSgd(n, batch, z, epochs, delta, classic: true);
        Assert.Equal(expected, eps, expected * 1e-8);
        Assert.Equal(expectedOrder, order);
    }

    // Source: tensorflow/privacy, tutorials/README.md ("Select Parameters": MNIST, N = 60000, batch 256,
    // delta = 1e-5) and the docstring of compute_dp_sgd_privacy.py ("--N=60000 --batch_size=256
    // --noise_multiplier=1.12 --epochs=60 --delta=1e-5 ... satisfies (2.92, 1e-5)-DP"). Classic conversion (the
    // library's at the time), printed to 3 significant figures. The README's third row (z = 0.6, 30 epochs,
    // 9.74) is not reproduced: this gives 9.77 with these orders and 9.75 with the tutorial's own.
    [Theory]
    [InlineData(1.12, 60, 2.92)]
    [InlineData(1.2, 10, 1.20)]
    public void Matches_the_tf_privacy_mnist_tutorial(double z, double epochs, double expected)
    {
        var (eps, _) = DpSgd(60_000, 256, z, epochs, 1e-5, classic: true);
        Assert.Equal(expected, Math.Round(eps, 2));
    }

    // Source: pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant: noise 1.5, sample rate 0.04,
    // int(90 / 0.04) = 2250 steps, delta = 1e-5, Opacus's default alphas, improved conversion (Opacus's
    // privacy_analysis.get_privacy_spent, Balle et al. 2020 Theorem 21). Expected 7.32911117143.
    [Fact]
    public void Matches_opacus_rdp_accountant_test()
    {
        var accountant = new RdpAccountant(RdpAccountant.OpacusOrders);
        for (var i = 0; i < 2250; i++)
        {
            accountant.Step(0.04, 1.5);
        }
        var (eps, _) = accountant.GetEpsilon(1e-5);
        Assert.Equal(7.32911117143, eps, 1e-9);
        Assert.Equal(2250, accountant.StepCount);
    }

    // Source: tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py,
    // test_compute_rdp_sequence and test_compute_rdp_scalar (RDP values, no conversion; absolute tolerance 1e-5
    // there, as here). dp_accounting's current test gives 6.70579741e-4 at order 1.5: its fractional series adds
    // the absolute values of the alternating terms (an upper bound); the signed series here is the exact value,
    // which Computes_log_A_as_numerical_integration_does confirms by integration.
    [Fact]
    public void Matches_tf_privacy_rdp_values_at_integer_and_fractional_orders()
    {
        var rdp = RdpAccountant.ComputeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
        double[] expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], rdp[i], 1e-5);
        }
        // The integer orders also agree with dp_accounting's rdp_privacy_accountant_test.py to its rtol of 1e-4.
        Assert.Equal(2.18075656e-03, rdp[2], 2.18075656e-03 * 1e-6);
        Assert.Equal(2.38460375e-02, rdp[3], 2.38460375e-02 * 1e-6);
        Assert.Equal(1.67416308e02, rdp[4], 1.67416308e02 * 1e-6);
        Assert.Equal(0.07737, RdpAccountant.ComputeRdp(0.1, 2, 10, [5])[0], 5e-6);
    }

    // Source: rdp_accountant_test.py test_check_composition: RDP of (q = 1e-4, z = 0.4, 40000 steps) plus
    // (q = 0.1, z = 2, 100 steps) at the listed orders gives eps = 8.509656 at order 2.5 for delta = 1e-5 under the
    // classic conversion (the assertion is kept there as an upper bound since TF Privacy changed conversions).
    [Fact]
    public void Composes_heterogeneous_steps_as_tf_privacy_does()
    {
        var accountant = new RdpAccountant([1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256]);
        accountant.Step(1e-4, 0.4, 40_000);
        accountant.Step(0.1, 2, 100);
        var (eps, order) = accountant.GetEpsilon(1e-5, classicConversion: true);
        Assert.Equal(8.509656, eps, 1e-6);
        Assert.Equal(2.5, order);
        Assert.True(accountant.GetEpsilon(1e-5).Epsilon <= eps);
    }

    // Source: rdp_accountant_test.py test_get_privacy_spent_check_target_delta and dp_accounting's
    // rdp_privacy_accountant_test.py test_compute_epsilon_delta_pure_dp / test_compute_epsilon_delta_gaussian
    // (improved conversion): constant RDP 1.1 at orders 2..32 gives 1.32783806176 at order 32; the unsampled
    // Gaussian with z = 4.530877117 is exactly (1, 1e-6)-DP on a fine grid of orders.
    [Fact]
    public void Converts_as_dp_accounting_does()
    {
        var orders = Enumerable.Range(2, 31).Select(i => (double)i).ToArray();
        var (eps, order) = RdpAccountant.ComputeEpsilon(orders, orders.Select(_ => 1.1).ToArray(), 1e-5);
        Assert.Equal(1.32783806176, eps, 1e-10);
        Assert.Equal(32, order);
        // Classic: 1.1 + log(1e5)/31.
        Assert.Equal(1.1 + (Math.Log(1e5) / 31), RdpAccountant.ComputeEpsilon(orders, orders.Select(_ => 1.1).ToArray(), 1e-5, true).Epsilon, 1e-12);

        var fine = Enumerable.Range(1_001, 98_999).Select(i => 0.001 * i).ToArray();
        var rdp = RdpAccountant.ComputeRdp(1, 4.530877117, 1, fine);
        Assert.Equal(1.0, RdpAccountant.ComputeEpsilon(fine, rdp, 1e-6).Epsilon, 1e-7);
    }

    /// <summary>
    /// log A_alpha by brute force: the trapezoid rule on a fine grid over the defining integral
    /// A = integral N(z; 0, sigma^2) ((1 - q) + q exp((2z - 1)/(2 sigma^2)))^alpha dz, in log space. The integrand
    /// has one bump near 0 and one near alpha, each of width sigma; the trapezoid rule is spectrally accurate for
    /// such smooth, fast-decaying integrands.
    /// </summary>
    private static double IntegratedLogA(double q, double sigma, double alpha)
    {
        var lo = -40 * sigma;
        var hi = alpha + (40 * sigma);
        var h = sigma / 100;
        var count = (int)Math.Ceiling((hi - lo) / h) + 1;
        var logQ = Math.Log(q);
        var log1mQ = Math.Log(1 - q);
        var logNorm = -Math.Log(sigma * Math.Sqrt(2 * Math.PI));
        double LogIntegrand(double z)
        {
            var a = log1mQ;
            var b = logQ + (((2 * z) - 1) / (2 * sigma * sigma));
            var mix = Math.Max(a, b) + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
            return logNorm - (z * z / (2 * sigma * sigma)) + (alpha * mix);
        }
        var max = double.NegativeInfinity;
        for (var k = 0; k < count; k++)
        {
            max = Math.Max(max, LogIntegrand(lo + (k * h)));
        }
        var sum = 0.0;
        for (var k = 0; k < count; k++)
        {
            var w = k == 0 || k == count - 1 ? 0.5 : 1.0;
            sum += w * Math.Exp(LogIntegrand(lo + (k * h)) - max);
        }
        return max + Math.Log(sum * h);
    }

    // Points of dp_accounting's test_compute_log_a_equals_mp (which checks against an mpmath integral at rtol
    // 1e-4) whose log A is large enough for a double-precision integral to resolve, plus the fractional orders of
    // the sequence above, where the signed and the absolute-value series differ by 3%.
    [Theory]
    [InlineData(1e-3, 1.0, 27.0)]
    [InlineData(1e-3, 1.0, 2.0)]
    [InlineData(0.01, 10.0, 20.0)]
    [InlineData(0.1, 100.0, 20.5)]
    [InlineData(0.99, 0.1, 256.0)]
    [InlineData(0.01, 2.5, 1.5)]
    [InlineData(0.01, 2.5, 2.5)]
    [InlineData(0.3, 0.7, 3.25)]
    [InlineData(0.05, 1.1, 7.75)]
    public void Computes_log_A_as_numerical_integration_does(double q, double sigma, double alpha)
    {
        var expected = IntegratedLogA(q, sigma, alpha);
        Assert.Equal(expected, RdpAccountant.ComputeLogA(q, sigma, alpha), Math.Abs(expected) * 1e-6);
    }

    [Fact]
    public void Handles_no_sampling_full_sampling_and_no_noise()
    {
        double[] orders = [1.5, 2, 20, 256];
        Assert.All(RdpAccountant.ComputeRdp(0, 1.0, 100, orders), r => Assert.Equal(0.0, r));
        Assert.All(RdpAccountant.ComputeRdp(0, 0.0, 100, orders), r => Assert.Equal(0.0, r));
        var full = RdpAccountant.ComputeRdp(1, 2.0, 3, orders);
        for (var i = 0; i < orders.Length; i++)
        {
            Assert.Equal(3 * orders[i] / 8, full[i], 1e-12);
        }
        Assert.All(RdpAccountant.ComputeRdp(0.01, 0, 1, orders), r => Assert.Equal(double.PositiveInfinity, r));

        var none = new RdpAccountant();
        none.Step(0, 1.0, 1_000);
        Assert.Equal(0.0, none.GetEpsilon(1e-10).Epsilon);
        var open = new RdpAccountant();
        open.Step(0.01, 0);
        var (eps, order) = open.GetEpsilon(1e-5);
        Assert.Equal(double.PositiveInfinity, eps);
        Assert.True(double.IsNaN(order));
    }

    [Fact]
    public void A_fresh_accountant_has_spent_nothing_and_zero_steps_change_nothing()
    {
        var accountant = new RdpAccountant();
        Assert.Equal(RdpAccountant.DefaultOrders, accountant.Orders);
        accountant.Step(0.5, 1.0, steps: 0);
        Assert.All(accountant.Rdp, r => Assert.Equal(0.0, r));
        Assert.Equal(0.0, accountant.GetEpsilon(1e-5).Epsilon);
        Assert.Equal(0, accountant.StepCount);
    }

    [Fact]
    public void Uses_the_documented_order_lists()
    {
        Assert.Equal(72, RdpAccountant.DefaultOrders.Count);
        Assert.Equal([1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, 5], RdpAccountant.DefaultOrders.Take(11));
        Assert.Equal([63, 128, 256, 512], RdpAccountant.DefaultOrders.TakeLast(4));
        Assert.Equal(151, RdpAccountant.OpacusOrders.Count);
        Assert.Equal(1.1, RdpAccountant.OpacusOrders[0], 1e-15);
        Assert.Equal(10.9, RdpAccountant.OpacusOrders[98], 1e-12);
        Assert.Equal(12, RdpAccountant.OpacusOrders[99]);
        Assert.Equal(63, RdpAccountant.OpacusOrders[^1]);
    }

    [Fact]
    public void Steps_compose_additively()
    {
        var once = new RdpAccountant();
        once.Step(0.02, 1.3, 500);
        var piecewise = new RdpAccountant();
        for (var i = 0; i < 5; i++)
        {
            piecewise.Step(0.02, 1.3, 100);
        }
        for (var i = 0; i < once.Rdp.Count; i++)
        {
            Assert.Equal(once.Rdp[i], piecewise.Rdp[i], once.Rdp[i] * 1e-12);
        }
    }

    [Fact]
    public void Epsilon_falls_as_noise_grows_and_rises_with_steps_and_sampling_rate()
    {
        static double Eps(double q, double z, int steps)
        {
            var accountant = new RdpAccountant();
            accountant.Step(q, z, steps);
            return accountant.GetEpsilon(1e-5).Epsilon;
        }
        double[] noises = [0.5, 0.7, 1.0, 1.5, 2.0, 4.0, 8.0];
        for (var i = 1; i < noises.Length; i++)
        {
            Assert.True(Eps(0.01, noises[i], 1_000) < Eps(0.01, noises[i - 1], 1_000), $"z = {noises[i]}");
        }
        int[] steps = [1, 10, 100, 1_000, 10_000];
        for (var i = 1; i < steps.Length; i++)
        {
            Assert.True(Eps(0.01, 1.0, steps[i]) > Eps(0.01, 1.0, steps[i - 1]), $"steps = {steps[i]}");
        }
        double[] rates = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];
        for (var i = 1; i < rates.Length; i++)
        {
            Assert.True(Eps(rates[i], 1.0, 100) > Eps(rates[i - 1], 1.0, 100), $"q = {rates[i]}");
        }
        // The improved conversion is never worse than the classic one.
        var accountant = new RdpAccountant();
        accountant.Step(0.01, 1.1, 3_000);
        Assert.True(accountant.GetEpsilon(1e-5).Epsilon <= accountant.GetEpsilon(1e-5, classicConversion: true).Epsilon);
    }

    [Fact]
    public void Refuses_invalid_arguments_naming_them()
    {
        Assert.Equal("orders", Assert.ThrowsAny<ArgumentException>(() => new RdpAccountant([2, 1.0])).ParamName);
        Assert.Equal("orders", Assert.ThrowsAny<ArgumentException>(() => new RdpAccountant([double.PositiveInfinity])).ParamName);
        Assert.Equal("orders", Assert.ThrowsAny<ArgumentException>(() => new RdpAccountant([])).ParamName);
        var accountant = new RdpAccountant();
        Assert.Equal("samplingRate", Assert.ThrowsAny<ArgumentException>(() => accountant.Step(1.5, 1)).ParamName);
        Assert.Equal("samplingRate", Assert.ThrowsAny<ArgumentException>(() => accountant.Step(double.NaN, 1)).ParamName);
        Assert.Equal("noiseMultiplier", Assert.ThrowsAny<ArgumentException>(() => accountant.Step(0.1, -1)).ParamName);
        Assert.Equal("steps", Assert.ThrowsAny<ArgumentException>(() => accountant.Step(0.1, 1, -1)).ParamName);
        Assert.Equal("delta", Assert.ThrowsAny<ArgumentException>(() => accountant.GetEpsilon(0)).ParamName);
        Assert.Equal("delta", Assert.ThrowsAny<ArgumentException>(() => accountant.GetEpsilon(1.5)).ParamName);
        Assert.Equal("rdp", Assert.ThrowsAny<ArgumentException>(() => RdpAccountant.ComputeEpsilon([2, 3], [0.1], 1e-5)).ParamName);
        Assert.Equal(0, accountant.StepCount);
    }
}
