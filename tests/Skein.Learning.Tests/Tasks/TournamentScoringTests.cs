using Skein.Learning.Tasks;

namespace Skein.Learning.Tests.Tasks;

public sealed class TournamentScoringTests
{
    [Theory]
    [InlineData(3.0, 3.0, 0.5)]
    [InlineData(3.0, 2.7, 0.6)]
    [InlineData(3.0, 3.3, 0.4)]
    [InlineData(3.0, 9.0, 0.0)]
    [InlineData(3.0, 0.0, 1.0)]
    [InlineData(3.0, double.NaN, 0.0)]
    [InlineData(0.0, 1.0, 0.0)]
    public void The_score_is_one_half_plus_the_relative_gain_clipped(double baseBpc, double candidate, double expected) =>
        Assert.Equal(expected, TournamentScoring.Score(baseBpc, candidate), 12);

    [Fact]
    public void A_lower_bpc_always_scores_higher_until_the_clip()
    {
        var previous = -1.0;
        for (var bpc = 4.5; bpc >= 1.5; bpc -= 0.01)
        {
            var score = TournamentScoring.Score(3.0, bpc);
            Assert.True(score > previous, $"{bpc}: {score} <= {previous}");
            previous = score;
        }
    }

    [Fact]
    public void A_near_copy_of_another_trainers_earlier_update_is_found_and_its_own_resubmission_is_not()
    {
        var random = new Random(3);
        float[] Noise(float[] of, double scale) => of.Select(x => x + (float)((random.NextDouble() - 0.5) * scale)).ToArray();
        var original = Enumerable.Range(0, 4_000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var independent = Enumerable.Range(0, 4_000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var nearCopy = Noise(original, 0.02);
        var ownRetry = Noise(original, 0.02);
        var farCopy = Noise(original, 2.0);
        string[] trainers = ["a", "b", "a", "c", "d", "e"];
        float[][] updates = [original, independent, ownRetry, nearCopy, farCopy, new float[3]];

        var copyOf = TournamentScoring.CopyOf(trainers, updates, 0.99);

        Assert.Equal([-1, -1, -1, 0, -1, -1], copyOf);
        Assert.InRange(TournamentScoring.Similarity(original, nearCopy), 0.99, 1.0);
        Assert.True(TournamentScoring.Similarity(original, farCopy) < 0.99);
        Assert.True(double.IsNaN(TournamentScoring.Similarity(original, new float[4_000])));
        // The original is never the copy: only the later of two equal updates is.
        Assert.Equal([-1, 0], TournamentScoring.CopyOf(["x", "y"], [original, (float[])original.Clone()], 0.99));
    }

    [Fact]
    public void Mismatched_inputs_are_refused_naming_the_field() =>
        Assert.StartsWith("trainers:", Assert.Throws<ArgumentException>(() => TournamentScoring.CopyOf(["a"], [], 0.99)).Message, StringComparison.Ordinal);
}
