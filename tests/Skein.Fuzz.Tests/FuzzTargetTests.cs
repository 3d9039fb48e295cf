namespace Skein.Fuzz.Tests;

/// <summary>A short, bounded run of every fuzz target: none may crash or hang (the long runs are `skein bench fuzz`).</summary>
public sealed class FuzzTargetTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void A_short_fuzz_run_finds_no_crash_and_no_hang(string name)
    {
        using var target = FuzzTargets.Create(name);
        var report = FuzzRunner.Run(target, new FuzzOptions { MaxInputs = 3_000, MaxTime = TimeSpan.FromSeconds(20), Seed = 7, HangAfter = TimeSpan.FromSeconds(5) });

        Assert.True(report.Clean, string.Join("\n", report.Findings.Select(f => $"{f.Kind} at {f.Index}: {f.Exception} {f.Message} ({f.Where}) input {f.InputBase64}")));
        Assert.True(report.Inputs >= 500, $"{name}: only {report.Inputs} inputs ran");
        Assert.True(report.Accepted > 0, $"{name}: no input was accepted, so mutation never got past the first check");
        Assert.True(report.Refused > 0, $"{name}: no input was refused");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_of_a_target_is_accepted_or_refused_without_a_crash(string name)
    {
        using var target = FuzzTargets.Create(name);
        Assert.NotEmpty(target.Seeds);
        foreach (var seed in target.Seeds)
        {
            _ = target.Run(seed);
        }
    }

    [Fact]
    public void The_same_seed_makes_the_same_run()
    {
        FuzzReport RunOnce()
        {
            using var target = FuzzTargets.Create("taskspec");
            return FuzzRunner.Run(target, new FuzzOptions { MaxInputs = 500, MaxTime = TimeSpan.FromSeconds(30), Seed = 11 });
        }

        var (a, b) = (RunOnce(), RunOnce());
        Assert.Equal((a.Inputs, a.Accepted, a.Refused), (b.Inputs, b.Accepted, b.Refused));
    }
}
