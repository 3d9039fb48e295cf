namespace Skein.Market.Tests.Akash;

/// <summary>A clock that moves only when told; the injected delay advances it, so no test waits.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public List<TimeSpan> Delays { get; } = [];

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    /// <summary>The delay to inject: records the wait and moves the clock by it.</summary>
    public Task Delay(TimeSpan delay, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Delays.Add(delay);
        Advance(delay);
        return Task.CompletedTask;
    }
}
