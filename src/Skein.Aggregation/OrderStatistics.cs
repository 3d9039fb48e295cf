namespace Skein.Aggregation;

/// <summary>Order statistics over one coordinate's sorted values, shared by the median, trimmed mean and Bulyan.</summary>
internal static class OrderStatistics
{
    /// <summary>The middle value, or the mean of the two middle values (exact in double) for an even count.</summary>
    public static double SortedMedian(ReadOnlySpan<float> sorted)
    {
        var half = sorted.Length / 2;
        return (sorted.Length & 1) == 1 ? sorted[half] : ((double)sorted[half - 1] + sorted[half]) * 0.5;
    }

    /// <summary>The mean, in double and in ascending order, of <paramref name="sorted"/>[from..from+count).</summary>
    public static double SortedMean(ReadOnlySpan<float> sorted, int from, int count)
    {
        var sum = 0.0;
        foreach (var v in sorted.Slice(from, count))
        {
            sum += v;
        }
        return sum / count;
    }
}
