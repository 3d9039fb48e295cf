namespace Skein.Market.Runtime;

/// <summary>Waiting for something outside the process to happen: checks at an interval until it holds or a deadline passes.</summary>
internal static class Polling
{
    /// <summary>True as soon as <paramref name="done"/> holds; false when <paramref name="timeout"/> passed first.</summary>
    public static async Task<bool> UntilAsync(Func<bool> done, TimeSpan timeout, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (!done())
        {
            if (time.GetUtcNow() >= deadline)
            {
                return false;
            }

            await Task.Delay(interval, time, cancellationToken);
        }

        return true;
    }
}
