namespace Skein.Learning.Tasks;

/// <summary>
/// How a tournament's validators score a submission and tell a copy (docs/tournaments.md): the score is
/// 0.5 + (base BPC - submission BPC) / base BPC clipped to [0, 1], so 0.5 is "no better than the starting model",
/// and a submission whose update is as close as the task's <c>copy_threshold</c> (cosine similarity) to an earlier
/// submission of another trainer in the window is a copy and scores 0.
/// </summary>
public static class TournamentScoring
{
    /// <summary>The score of a submission exactly as good as the window's starting model.</summary>
    public const double Neutral = 0.5;

    public static double Score(double baseBpc, double candidateBpc)
    {
        if (!double.IsFinite(baseBpc) || !double.IsFinite(candidateBpc) || baseBpc <= 0)
        {
            return 0;
        }
        return Math.Clamp(Neutral + ((baseBpc - candidateBpc) / baseBpc), 0, 1);
    }

    /// <summary>
    /// For each submission (in ledger order), the index of the earlier submission of another trainer it copies, or -1:
    /// the first earlier one whose update's cosine similarity to it is at least <paramref name="threshold"/>. Updates of
    /// other lengths, all-zero updates and non-finite similarities never match (those fail other checks).
    /// </summary>
    public static int[] CopyOf(IReadOnlyList<string> trainers, IReadOnlyList<float[]> updates, double threshold)
    {
        ArgumentNullException.ThrowIfNull(trainers);
        ArgumentNullException.ThrowIfNull(updates);
        if (trainers.Count != updates.Count)
        {
            throw new ArgumentException($"trainers: {trainers.Count} trainers for {updates.Count} updates", nameof(trainers));
        }
        var copyOf = new int[updates.Count];
        for (var j = 0; j < updates.Count; j++)
        {
            copyOf[j] = -1;
            for (var i = 0; i < j && copyOf[j] < 0; i++)
            {
                if (!string.Equals(trainers[i], trainers[j], StringComparison.OrdinalIgnoreCase) && Similarity(updates[i], updates[j]) >= threshold)
                {
                    copyOf[j] = i;
                }
            }
        }
        return copyOf;
    }

    /// <summary>The cosine similarity of two updates, NaN when it is undefined (other lengths, a zero update).</summary>
    public static double Similarity(float[] a, float[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length || a.Length == 0)
        {
            return double.NaN;
        }
        // In double: float dot products over 10^5 terms lose the digits that tell 0.9999 from 0.99.
        double dot = 0, na = 0, nb = 0;
        for (var k = 0; k < a.Length; k++)
        {
            dot += (double)a[k] * b[k];
            na += (double)a[k] * a[k];
            nb += (double)b[k] * b[k];
        }
        return na == 0 || nb == 0 ? double.NaN : dot / Math.Sqrt(na * nb);
    }
}
