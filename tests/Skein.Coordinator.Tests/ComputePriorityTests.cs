using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A node's compute threads run below its networking threads.</summary>
public sealed class ComputePriorityTests
{
    [Fact]
    public async Task A_compute_thread_is_lowered_and_the_threads_around_it_are_not()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "thread nice values are a Linux feature here");
        var before = ComputePriority.CurrentNice();
        var inside = await Task.Factory.StartNew(() =>
        {
            ComputePriority.LowerCurrentThread();
            return ComputePriority.CurrentNice();
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Equal(Math.Max(before, ComputePriority.Nice), inside);
        Assert.Equal(before, ComputePriority.CurrentNice());
    }
}
