using Skein.Learning.Validation;

namespace Skein.Learning.Tests;

public sealed class CohortScoreTests
{
    private static readonly double[] Norms10 = [1.0, 0.9, 1.1, 1.2, 0.8, 1.0, 1.05, 0.95, 1.15, 1.0];

    [Fact]
    public void A_share_far_worse_than_the_round_scores_zero_and_the_rest_full()
    {
        // Nine shares spread around 0.25 (MAD 0.005) and one at 0.30: z = 0.05 / (0.005 * 1.4826) ≈ 6.7.
        double[] losses = [0.245, 0.25, 0.255, 0.25, 0.24, 0.26, 0.25, 0.245, 0.255, 0.30];
        var scores = CohortScore.Compute(losses, Norms10);
        Assert.Equal(0, scores[9]);
        Assert.All(scores[..9], s => Assert.Equal(1, s));
    }

    [Fact]
    public void A_moderate_outlier_gets_partial_credit_on_a_linear_ramp()
    {
        // Median 0.25, MAD 0.005·1.4826 = 0.007413; a loss at z = 4.5 sits halfway down the ramp from 3 to 6.
        double[] losses = [0.245, 0.25, 0.255, 0.25, 0.245, 0.255, 0.25, 0.245, 0.255, 0.25 + (4.5 * 0.005 * 1.4826)];
        var scores = CohortScore.Compute(losses, Norms10);
        Assert.Equal(0.5, scores[9], 6);
    }

    [Theory]
    [InlineData(4.0, 0.0)]
    [InlineData(2.5, 0.5)]
    [InlineData(1.9, 1.0)]
    public void A_harmful_and_oversized_update_is_scored_down_by_its_norm(double ratio, double expected)
    {
        // Median 0.25, MAD 0.0025·1.4826: the last share sits at z = 2.5, harmful but under the harm-alone bar.
        double[] losses = [0.2475, 0.25, 0.2525, 0.25, 0.2475, 0.2525, 0.25 + (2.5 * 0.0025 * 1.4826)];
        double[] norms = [1, 1, 1, 1, 1, 1, ratio];
        Assert.Equal(expected, CohortScore.Compute(losses, norms)[6], 6);
    }

    [Fact]
    public void A_large_update_that_helps_keeps_full_marks()
    {
        // Honest clients whose classes the global model neglects send the largest and most useful updates.
        double[] losses = [0.2475, 0.25, 0.2525, 0.25, 0.2475, 0.2525, 0.20];
        double[] norms = [1, 1, 1, 1, 1, 1, 10];
        Assert.Equal(1, CohortScore.Compute(losses, norms)[6]);
    }

    [Fact]
    public void With_fewer_than_three_updates_only_the_norm_rule_applies()
    {
        var scores = CohortScore.Compute([0.2, 5.0], [1.0, 1.0]);
        Assert.Equal([1.0, 1.0], scores);
    }

    [Fact]
    public void Non_finite_losses_or_norms_score_zero_and_mismatched_inputs_are_refused()
    {
        var scores = CohortScore.Compute([0.25, double.NaN, 0.25, 0.252], [1, 1, double.PositiveInfinity, 1]);
        Assert.Equal([1.0, 0.0, 0.0, 1.0], scores);
        Assert.Throws<ArgumentException>(() => CohortScore.Compute([0.1, 0.2], [1.0]));
    }

    [Fact]
    public void Identical_shares_do_not_divide_by_zero()
    {
        var scores = CohortScore.Compute([0.3, 0.3, 0.3, 0.3], [1, 1, 1, 1]);
        Assert.All(scores, s => Assert.Equal(1, s));
    }
}
