namespace Skein.Market.Tests.Runtime;

/// <summary>Polls until a condition holds, within a deadline: tests wait for processes this way, never by sleeping a fixed time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}; last seen: {value}");
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    public static Task Until(Func<bool> done, string what, TimeSpan? timeout = null) =>
        Until(() => Task.FromResult(done()), d => d, what, timeout);
}
