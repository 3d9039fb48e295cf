using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A node's compute threads run below its networking threads.</summary>
public sealed class ComputePriorityTests
{
    [Fact]
    public async Task A_compute_thread_is_lowered_and_what_awaits_it_is_not()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "thread nice values are a Linux feature here");
        var before = ComputePriority.CurrentNice();
        var computeThread = 0;
        var inside = await ComputePriority.RunLoweredAsync(() =>
        {
            computeThread = Environment.CurrentManagedThreadId;
            return ComputePriority.CurrentNice();
        }, TestContext.Current.CancellationToken);
        Assert.Equal(Math.Max(before, ComputePriority.Nice), inside);
        // The continuation must not run inline on the lowered thread: the upload after training would run at nice 10.
        Assert.NotEqual(computeThread, Environment.CurrentManagedThreadId);
        Assert.Equal(before, ComputePriority.CurrentNice());
    }

    [Fact]
    public async Task A_failure_in_compute_reaches_the_caller()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ComputePriority.RunLoweredAsync<int>(
            () => throw new InvalidOperationException("bad tensor"), TestContext.Current.CancellationToken));
        Assert.Equal("bad tensor", error.Message);
    }

    [Fact]
    public async Task A_cancelled_token_cancels_before_the_work_starts()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var ran = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ComputePriority.RunLoweredAsync(() => ran = true, cts.Token));
        Assert.False(ran);
    }
}
