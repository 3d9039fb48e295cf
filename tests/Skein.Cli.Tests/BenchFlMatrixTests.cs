using Skein.Simulation;

namespace Skein.Cli.Tests;

/// <summary>A scenario matrix keeps every finished run, whatever happens to the others.</summary>
public sealed class BenchFlMatrixTests
{
    private static readonly SimulationOptions[] Runs =
    [
        new SimulationOptions { Seed = 1 },
        new SimulationOptions { Seed = 2 },
        new SimulationOptions { Seed = 3 },
    ];

    private static FlRunResult Finished(SimulationOptions run) =>
        new("s", "2nn", "iid", 10, 0.1, 1, 10, 0.1, "fedavg", null, [], null, null, null, 0.9, 0.9, 1, 1, run.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static FlRunResult Unfinished(SimulationOptions run, string status, string error) =>
        new("s", "2nn", "iid", 10, 0.1, 1, 10, 0.1, "fedavg", null, [], null, null, null, double.NaN, double.NaN, 0, 0, "", status, null, error);

    [Fact]
    public async Task A_run_that_throws_is_recorded_as_failed_and_the_next_one_still_runs()
    {
        var log = new StringWriter();
        var results = await BenchFlCommand.RunAllAsync(Runs, (run, _) => run.Seed == 2
                ? throw new InvalidOperationException("libtorch ran out of memory")
                : Task.FromResult(Finished(run)),
            Unfinished, log, TestContext.Current.CancellationToken);

        Assert.Equal([FlRunStatus.Ok, FlRunStatus.Failed, FlRunStatus.Ok], results.Select(r => r.Status));
        Assert.Equal("1", results[0].ModelSha256);
        Assert.Equal("3", results[2].ModelSha256);
        Assert.Equal("InvalidOperationException: libtorch ran out of memory", results[1].Error);
        Assert.Contains("run 2 of 3", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, new FlMatrixSummary("s", results).FailedRuns);
    }

    [Fact]
    public async Task A_cancellation_keeps_finished_runs_and_marks_the_rest_cancelled()
    {
        using var cts = new CancellationTokenSource();
        var results = await BenchFlCommand.RunAllAsync(Runs, async (run, token) =>
        {
            if (run.Seed == 2)
            {
                await cts.CancelAsync();
                token.ThrowIfCancellationRequested();
            }
            return Finished(run);
        }, Unfinished, TextWriter.Null, cts.Token);

        Assert.Equal([FlRunStatus.Ok, FlRunStatus.Cancelled, FlRunStatus.Cancelled], results.Select(r => r.Status));
        Assert.Equal("cancelled while running", results[1].Error);
        Assert.Equal("not started: cancelled", results[2].Error);
    }
}
