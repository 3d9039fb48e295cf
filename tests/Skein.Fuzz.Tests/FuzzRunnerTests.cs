using Microsoft.Extensions.Time.Testing;

namespace Skein.Fuzz.Tests;

/// <summary>The harness itself: it must see a crash and a hang, or a clean fuzz run would prove nothing.</summary>
public sealed class FuzzRunnerTests
{
    /// <summary>A parser with a planted bug: any input whose first byte is 'X' dereferences null.</summary>
    private static FuzzTarget Toy(Func<byte[], FuzzOutcome>? run = null) => new()
    {
        Name = "toy",
        Description = "a parser with a planted bug",
        Seeds = [[(byte)'a', (byte)'b', (byte)'c']],
        Run = run ?? (input =>
        {
            if (input.Length > 0 && input[0] == (byte)'X')
            {
                string? nothing = null;
                return nothing!.Length > 0 ? FuzzOutcome.Accepted : FuzzOutcome.Refused;
            }
            return input.Length % 2 == 0 ? FuzzOutcome.Accepted : FuzzOutcome.Refused;
        }),
    };

    [Fact]
    public void The_harness_reports_a_crash_with_its_input_and_saves_it()
    {
        var folder = Path.Combine(Path.GetTempPath(), "skein-fuzz-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var target = Toy();
            var report = FuzzRunner.Run(target, new FuzzOptions { MaxInputs = 20_000, MaxTime = TimeSpan.FromSeconds(30), Seed = 3, FindingsDirectory = folder });

            Assert.False(report.Clean);
            Assert.True(report.Crashes > 0);
            // One bug, one finding per throwing frame; once the JIT inlines the toy into the runner's loop (dynamic PGO),
            // its frame reads as the loop's, so the same bug may show twice.
            Assert.InRange(report.Findings.Count, 1, 2);
            foreach (var finding in report.Findings)
            {
                Assert.Equal("crash", finding.Kind);
                Assert.Equal(typeof(NullReferenceException).FullName, finding.Exception);
                Assert.Equal((byte)'X', finding.Input[0]);
                Assert.Equal(finding.Input, File.ReadAllBytes(finding.SavedTo!));
            }
            Assert.Equal(20_000, report.Inputs);
            Assert.Equal(report.Inputs, report.Accepted + report.Refused + report.Crashes);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void The_harness_reports_an_input_that_runs_past_the_bound_as_a_hang()
    {
        // The clock is fake: the planted slow input moves it ten seconds on, so nothing waits.
        var time = new FakeTimeProvider();
        using var target = Toy(input =>
        {
            if (input.Length > 0 && input[0] == (byte)'X')
            {
                time.Advance(TimeSpan.FromSeconds(10));
            }
            return FuzzOutcome.Refused;
        });
        var report = FuzzRunner.Run(target, new FuzzOptions { MaxInputs = 20_000, MaxTime = TimeSpan.FromHours(1), HangAfter = TimeSpan.FromSeconds(2), Seed = 3 }, time);

        Assert.True(report.Hangs > 0);
        Assert.Equal(0, report.Crashes);
        Assert.Contains(report.Findings, f => f.Kind == "hang" && f.Input[0] == (byte)'X');
    }

    [Fact]
    public void A_clean_target_gives_a_clean_report_within_its_input_bound()
    {
        using var target = Toy(input => input.Length % 3 == 0 ? FuzzOutcome.Accepted : FuzzOutcome.Refused);
        var report = FuzzRunner.Run(target, new FuzzOptions { MaxInputs = 5_000, MaxTime = TimeSpan.FromSeconds(30) });

        Assert.True(report.Clean);
        Assert.Equal(5_000, report.Inputs);
        Assert.Empty(report.Findings);
    }
}
