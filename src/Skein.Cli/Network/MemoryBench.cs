using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skein.Learning.Data;

namespace Skein.Cli.Network;

/// <summary>What <c>skein bench memory</c> runs: the demo's network for the 2NN, a smaller one for the CNN.</summary>
public sealed record MemoryBenchOptions
{
    /// <summary>The 2NN run has the demo's shape (10 trainers, 3 validators, MNIST shards), for this many rounds.</summary>
    public uint Rounds2nn { get; init; } = 5;

    public uint RoundsCnn { get; init; } = 2;

    public bool Cnn { get; init; } = true;

    /// <summary>Above 0: synthetic images instead of MNIST (tests, smoke runs).</summary>
    public int SyntheticExamples { get; init; }

    /// <summary>How often each process's memory is read.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>Where one process's memory goes at its peak: the runtime's counters beside the kernel's mappings, in MB.</summary>
public sealed record MemoryBreakdown(double GcHeapMb, double GcCommittedMb, double NativeMb, double JitCodeMb, double LibrariesMb, int Threads);

/// <summary>One role of one model's run: the largest process of that role, idle and at its peaks, in MB of PSS.</summary>
/// <remarks>
/// <see cref="RssMbPeak"/> is the resident set over the process's whole life, start included: alone in a container
/// nothing is shared, so this (not PSS) is what its memory limit must hold.
/// </remarks>
public sealed record MemoryRole(string Role, string Model, int Processes, double PssMbIdle, double PssMbPeak, double PssMbStartPeak, double PrivateMbPeak, double RssMbPeak, MemoryBreakdown? Breakdown, MemoryBreakdown? StartBreakdown);

/// <summary>The result of <c>skein bench memory</c>.</summary>
public sealed record MemoryBenchResult(IReadOnlyList<MemoryRole> Processes, double DemoPssMbPeak, int DemoProcesses, double BenchProcessPssMbPeak, double Accuracy, IReadOnlyDictionary<string, double> Targets, bool TargetsMet);

/// <summary>
/// Runs a network with every process reporting its runtime counters (<see cref="MemoryReport"/>), reads each one's
/// proportional set size from /proc a few times a second, and reports per role: the peak at start (the key unlock,
/// the data loaded), idle (the last sample before round 1: ready and waiting), and the peak while rounds run.
/// </summary>
public sealed class MemoryBench(MemoryBenchOptions options, MnistFiles? mnist, TextWriter log)
{
    public static IReadOnlyDictionary<string, double> Targets { get; } = new Dictionary<string, double>
    {
        ["trainer_2nn_pss_mb_peak"] = 150,
        ["validator_2nn_pss_mb_peak"] = 150,
        ["coordinator_pss_mb_peak"] = 200,
        ["demo_pss_mb_peak"] = 3000,
    };

    public async Task<MemoryBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        var roles = new List<MemoryRole>();
        var (twoNn, demoPeak, demoCount, selfPeak, accuracy) = await RunOneAsync("2nn", new NetworkDemoOptions
        {
            Rounds = options.Rounds2nn,
            RentThroughMarket = false,
            SyntheticExamples = options.SyntheticExamples,
        }, cancellationToken);
        roles.AddRange(twoNn);
        if (options.Cnn)
        {
            var cnn = new NetworkDemoOptions { Trainers = 3, Validators = 1, Rounds = options.RoundsCnn, RentThroughMarket = false, SyntheticExamples = options.SyntheticExamples };
            var (cnnRoles, _, _, _, _) = await RunOneAsync("cnn", cnn with { TaskJsonOverride = cnn.TaskJson().Replace("\"model\": \"2nn\"", "\"model\": \"cnn\"", StringComparison.Ordinal).Replace("\"lr\": 0.1", "\"lr\": 0.05", StringComparison.Ordinal) }, cancellationToken);
            roles.AddRange(cnnRoles);
        }
        double Peak(string role, string model) => roles.FirstOrDefault(r => r.Role == role && r.Model == model)?.PssMbPeak ?? double.NaN;
        var met = Peak("trainer", "2nn") <= Targets["trainer_2nn_pss_mb_peak"] && Peak("validator", "2nn") <= Targets["validator_2nn_pss_mb_peak"]
            && Peak("coordinator", "2nn") <= Targets["coordinator_pss_mb_peak"] && demoPeak <= Targets["demo_pss_mb_peak"];
        return new MemoryBenchResult(roles, demoPeak, demoCount, selfPeak, accuracy, Targets, met);
    }

    private async Task<(List<MemoryRole> Roles, double DemoPeak, int DemoCount, double SelfPeak, double Accuracy)> RunOneAsync(string model, NetworkDemoOptions network, CancellationToken ct)
    {
        var reports = Directory.CreateTempSubdirectory("skein-memory-").FullName;
        try
        {
            network = network with { ProcessEnvironment = name => new Dictionary<string, string> { [MemoryReport.Variable] = Path.Combine(reports, name + ".json") } };
            await using var demo = new NetworkDemo(network, mnist, log);
            var samples = new Dictionary<string, ProcessTrace>();
            var phase = Phase.Start;
            double demoPeak = 0, selfPeak = 0;
            var demoCount = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var sampler = Task.Run(async () =>
            {
                var tick = 0;
                var most = 0;
                while (!stop.IsCancellationRequested)
                {
                    var ids = demo.ProcessIds;
                    most = Math.Max(most, ids.Count);
                    // Once nodes leave after the last round, those left carry more of the shared libraries' pages in
                    // their PSS: a peak read then would be an artefact of the others' exit, not memory used.
                    if (phase == Phase.Rounds && ids.Count < most)
                    {
                        break;
                    }
                    double total = 0;
                    foreach (var (name, pid) in ids.Append(new KeyValuePair<string, int>("demo", Environment.ProcessId)))
                    {
                        if (ProcMemory.Rollup(pid) is not { } rollup)
                        {
                            continue;
                        }
                        total += rollup.PssMb;
                        if (name == "demo")
                        {
                            selfPeak = Math.Max(selfPeak, rollup.PssMb);
                            continue;
                        }
                        var trace = samples.TryGetValue(name, out var t) ? t : samples[name] = new ProcessTrace();
                        // The kernel's mappings every 2 s at most: reading them costs more than the rollup.
                        trace.Add(phase, rollup, tick % 8 == 0 || rollup.PssMb > trace.Peak(phase) + 5
                            ? () => Breakdown(pid, Path.Combine(reports, name + ".json"))
                            : null);
                    }
                    if (phase == Phase.Rounds && total > demoPeak)
                    {
                        (demoPeak, demoCount) = (total, ids.Count + 1);
                    }
                    tick++;
                    await Task.Delay(options.Interval, CancellationToken.None);
                }
            }, CancellationToken.None);

            await demo.StartAsync(ct);
            double accuracy = 0;
            // Rounds begin once every node has joined (keys unlocked, data loaded): samples before are the start's.
            for (var i = 0; i < 2400 && (await demo.Api.GetRoundSummariesAsync(1, ct)).Count == 0; i++)
            {
                await Task.Delay(250, ct);
            }
            phase = Phase.Rounds;
            await foreach (var round in demo.FollowAsync(ct))
            {
                accuracy = round.Accuracy;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model}: round {round.Round} settled, accuracy {round.Accuracy:0.0000}"));
            }
            await stop.CancelAsync();
            await sampler;

            var roles = samples.GroupBy(s => RoleOf(s.Key)).Where(g => g.Key is not null).Select(g =>
            {
                var top = g.MaxBy(s => s.Value.Peak(Phase.Rounds))!.Value;
                var topAtStart = g.MaxBy(s => s.Value.Peak(Phase.Start))!.Value;
                return new MemoryRole(g.Key!, model, g.Count(), Round(g.Max(s => s.Value.Idle)), Round(top.Peak(Phase.Rounds)),
                    Round(topAtStart.Peak(Phase.Start)), Round(g.Max(s => s.Value.PrivatePeak(Phase.Rounds))), Round(g.Max(s => s.Value.RssPeak)),
                    top.Breakdown(Phase.Rounds), topAtStart.Breakdown(Phase.Start));
            }).OrderBy(r => r.Role, StringComparer.Ordinal).ToList();
            return (roles, Round(demoPeak), demoCount, Round(selfPeak), accuracy);
        }
        finally
        {
            Directory.Delete(reports, recursive: true);
        }
    }

    private static string? RoleOf(string name) =>
        name == "coordinator" ? "coordinator" : name.StartsWith("trainer-", StringComparison.Ordinal) ? "trainer" : name.StartsWith("validator-", StringComparison.Ordinal) ? "validator" : null;

    private static double Round(double mb) => Math.Round(mb, 1);

    private static MemoryBreakdown? Breakdown(int pid, string reportFile)
    {
        if (ProcMemory.Mappings(pid) is not { } maps)
        {
            return null;
        }
        long heap = 0, committed = 0;
        var threads = 0;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(reportFile));
            heap = doc.RootElement.GetProperty("gc_heap_bytes").GetInt64();
            committed = doc.RootElement.GetProperty("gc_committed_bytes").GetInt64();
            threads = doc.RootElement.GetProperty("threads").GetInt32();
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException)
        {
            // not written yet
        }
        const double Mb = 1 << 20;
        return new MemoryBreakdown(Math.Round(heap / Mb, 1), Math.Round(committed / Mb, 1), Math.Round(Math.Max(0, maps.AnonymousPssBytes - committed) / Mb, 1),
            Math.Round(maps.JitPssBytes / Mb, 1), Math.Round(maps.FilePssBytes / Mb, 1), threads);
    }

    private enum Phase
    {
        Start,
        Rounds,
    }

    /// <summary>One process's samples by phase, and the breakdown taken at its highest sample while rounds ran.</summary>
    private sealed class ProcessTrace
    {
        private readonly Dictionary<Phase, (double Pss, double Private)> _peaks = [];

        private readonly Dictionary<Phase, (double At, MemoryBreakdown Breakdown)> _breakdowns = [];

        /// <summary>The split taken at the highest sample of the phase that had one.</summary>
        public MemoryBreakdown? Breakdown(Phase phase) => _breakdowns.TryGetValue(phase, out var b) ? b.Breakdown : null;

        /// <summary>The last sample before the first round: started, key unlocked, data loaded, waiting for work.</summary>
        public double Idle { get; private set; }

        public double Peak(Phase phase) => _peaks.TryGetValue(phase, out var p) ? p.Pss : 0;

        public double PrivatePeak(Phase phase) => _peaks.TryGetValue(phase, out var p) ? p.Private : 0;

        /// <summary>The highest resident set in any phase.</summary>
        public double RssPeak { get; private set; }

        public void Add(Phase phase, ProcMemory.RollupSample sample, Func<MemoryBreakdown?>? breakdown)
        {
            if (phase == Phase.Start)
            {
                Idle = sample.PssMb;
            }
            RssPeak = Math.Max(RssPeak, sample.RssMb);
            var (pss, priv) = _peaks.GetValueOrDefault(phase);
            _peaks[phase] = (Math.Max(pss, sample.PssMb), Math.Max(priv, sample.PrivateMb));
            if (breakdown is not null && (!_breakdowns.TryGetValue(phase, out var b) || sample.PssMb >= b.At) && breakdown() is { } split)
            {
                _breakdowns[phase] = (sample.PssMb, split);
            }
        }
    }
}

/// <summary>Reads a process's memory from /proc (Linux): the rollup for totals, the mappings for where it goes.</summary>
public static class ProcMemory
{
    /// <summary>PSS, private and resident memory, in MB.</summary>
    public sealed record RollupSample(double PssMb, double PrivateMb, double AnonymousMb, double RssMb);

    /// <summary>PSS by kind of mapping, in bytes.</summary>
    public sealed record MappingTotals(long AnonymousPssBytes, long JitPssBytes, long FilePssBytes);

    public static RollupSample? Rollup(int pid)
    {
        try
        {
            long pss = 0, priv = 0, anon = 0, rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                var kb = Kb(line);
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss = kb;
                }
                else if (line.StartsWith("Rss:", StringComparison.Ordinal))
                {
                    rss = kb;
                }
                else if (line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                {
                    priv += kb;
                }
                else if (line.StartsWith("Anonymous:", StringComparison.Ordinal))
                {
                    anon = kb;
                }
            }
            return new RollupSample(pss / 1024.0, priv / 1024.0, anon / 1024.0, rss / 1024.0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // gone, or not ours
        }
    }

    public static MappingTotals? Mappings(int pid)
    {
        try
        {
            long anonymous = 0, jit = 0, file = 0;
            var kind = 0;
            var mappings = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space > 0 && line.AsSpan(0, space).Contains('-'))
                {
                    var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                    var name = fields.Length > 5 ? fields[5] : "";
                    // JIT'd code lives in a double-mapped memfd; libraries and assemblies are files; the rest (the GC's
                    // heap, malloc's arenas and heap, stacks) is anonymous.
                    kind = name.StartsWith("/memfd:doublemapper", StringComparison.Ordinal) ? 1 : name.StartsWith('/') ? 2 : 0;
                    mappings++;
                }
                else if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    var bytes = Kb(line) * 1024;
                    switch (kind)
                    {
                        case 1: jit += bytes; break;
                        case 2: file += bytes; break;
                        default: anonymous += bytes; break;
                    }
                }
            }
            // An exiting process's smaps reads empty: no split rather than a split of zeros.
            return mappings == 0 ? null : new MappingTotals(anonymous, jit, file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Kb(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
