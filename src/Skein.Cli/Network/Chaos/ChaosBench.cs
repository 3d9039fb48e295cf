using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Skein.Coordinator.Api;
using Skein.Learning.Data;
using Skein.Ledger.Storage;

namespace Skein.Cli.Network.Chaos;

/// <summary>What <c>skein bench chaos</c> runs.</summary>
public sealed record ChaosBenchOptions
{
    public double Minutes { get; init; } = 10;

    public ulong Seed { get; init; } = 1;

    public int Trainers { get; init; } = 10;

    public int Validators { get; init; } = 3;

    /// <summary>Above 0: synthetic images (this many per node) instead of MNIST.</summary>
    public int SyntheticExamples { get; init; }

    /// <summary>Also run the same task and seed without faults for as many rounds, and report its accuracy beside.</summary>
    public bool Baseline { get; init; } = true;

    public string? WorkDirectory { get; init; }

    public ChaosScheduleOptions Kills { get; init; } = new();

    public FaultProxyOptions Faults { get; init; } = new();

    /// <summary>Phase deadlines: short enough that a round whose picked node is down for good ends soon, long enough for a restarted node to catch up.</summary>
    public (double Training, double Commit, double Reveal) DeadlineSeconds { get; init; } = (30, 15, 15);

    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        if (!(Minutes is > 0 and <= 24 * 60))
        {
            e.Add(string.Create(CultureInfo.InvariantCulture, $"--minutes must be in (0, 1440], got {Minutes}"));
        }
        if (SyntheticExamples is < 0 or > 60_000)
        {
            e.Add($"--synthetic-data must be between 0 and 60000, got {SyntheticExamples}");
        }
        e.AddRange(Faults.Validate().Select(m => "faults: " + m));
        e.AddRange(Demo(null, 0, 0).Validate());
        return e;
    }

    /// <summary>The demo's network as the bench runs it: nodes started directly, the given ports, the nodes dialling <paramref name="dial"/>.</summary>
    internal NetworkDemoOptions Demo(Uri? dial, int port, int apiPort) => new()
    {
        Trainers = Trainers,
        Validators = Validators,
        // More rounds than any run reaches: the run ends by the clock, not by the task.
        Rounds = 10_000,
        Seed = Seed,
        RentThroughMarket = false,
        SyntheticExamples = SyntheticExamples,
        CoordinatorPort = port,
        ApiPort = apiPort,
        NodesDial = dial,
        DeadlineSeconds = DeadlineSeconds,
    };
}

/// <summary>A round that did not settle, and why.</summary>
public sealed record ChaosFailedRound(uint Round, string Reason);

/// <summary>One kill as it happened: seconds into the chaos, whom, the round and phase the network was in as last seen.</summary>
public sealed record ChaosKillRecord(double AtSeconds, string Role, string Victim, double DowntimeSeconds, uint Round, string Phase);

/// <summary>A party whose process ended without being killed.</summary>
public sealed record ChaosCrash(string Name, int ExitCode, double AtSeconds);

/// <summary>The checks of a chaos run, each true when it held.</summary>
public sealed record ChaosChecks(bool EveryRoundFinalized, bool Verify, bool LedgerReplay, bool SupplyConserved, bool AcceptedUpdatesKept, bool NoOrphans, bool NoCrashes);

/// <summary>The result of <c>skein bench chaos</c>; field names are a public contract.</summary>
public sealed record ChaosBenchResult(
    double Minutes,
    ulong Seed,
    int Trainers,
    int Validators,
    string Data,
    int RoundsFinalized,
    IReadOnlyList<ChaosFailedRound> RoundsFailed,
    int RoundsWithoutAcceptedUpdates,
    string Verify,
    int VerifiedRounds,
    string LedgerReplay,
    bool SupplyConserved,
    int AcceptedUpdates,
    IReadOnlyList<string> AcceptedUpdatesMissing,
    IReadOnlyList<int> OrphanedProcesses,
    IReadOnlyDictionary<string, int> Kills,
    IReadOnlyList<ChaosKillRecord> KillLog,
    IReadOnlyList<ChaosCrash> Crashes,
    FaultProxyCounts ProxyFaults,
    double? Accuracy,
    double? AccuracyNoFaults,
    string Baseline,
    ChaosChecks Checks,
    bool AllChecksOk,
    double WallSeconds);

/// <summary>
/// <c>skein bench chaos</c>: the networked demo (a coordinator and node processes on loopback, the embedded ledger)
/// with every node dialling the coordinator through a <see cref="FaultProxy"/>, while a seeded
/// <see cref="ChaosSchedule"/> SIGKILLs and restarts trainers, validators and the coordinator. When the time is up the
/// faults stop, the round in flight may finish, and the run checks what must survive any crash: every round settled or
/// failed with a reason, every round recomputes (verify), the chain replays, supply is conserved, every accepted
/// update's blob is on disk with its hash, no process outlives the run, no process died that was not killed.
/// </summary>
public sealed class ChaosBench(ChaosBenchOptions options, MnistFiles? mnist, TextWriter log)
{
    private readonly Stopwatch _clock = new();
    private (uint Round, string Phase) _seen = (0, "starting");

    public async Task<ChaosBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        _clock.Start();
        var work = options.WorkDirectory ?? Directory.CreateTempSubdirectory("skein-chaos-").FullName;
        var chaosWork = Path.Combine(work, "chaos");
        var (port, apiPort) = (FreePort(), FreePort());
        await using var proxy = FaultProxy.Start(port, options.Faults, options.Seed);
        var demo = new NetworkDemo(options.Demo(proxy.Uri, port, apiPort) with { WorkDirectory = chaosWork, Keep = options.WorkDirectory is not null }, mnist, log);
        var kills = new List<ChaosKillRecord>();
        var crashes = new List<ChaosCrash>();
        uint lastRound;
        List<ChaosFailedRound> failed;
        IReadOnlyList<ApiRoundSummary> summaries;
        List<RoundVerification> verified;
        bool supply;
        IReadOnlyList<Process> processes;
        try
        {
            log.WriteLine($"chaos: coordinator gRPC :{port} behind the fault proxy :{proxy.Port}, API :{apiPort}");
            await demo.StartAsync(cancellationToken);
            await WaitAsync(async ct => (await demo.Api.GetRoundSummariesAsync(1, ct)).Count > 0, TimeSpan.FromMinutes(5), "round 1 to open", cancellationToken);
            log.WriteLine($"chaos: round 1 is open; killing and cutting for {options.Minutes} min");
            lastRound = await ChaosAsync(demo, proxy, kills, crashes, cancellationToken);
            proxy.FaultsEnabled = false;
            log.WriteLine($"chaos: over after {kills.Count} kills; faults off; waiting for round {lastRound} to settle");
            failed = await DrainAsync(demo, lastRound, crashes, cancellationToken);
            summaries = (await demo.Api.GetRoundSummariesAsync(1, cancellationToken)).Where(s => s.Round <= lastRound).ToArray();
            log.WriteLine($"chaos: recomputing {summaries.Count(s => s.Phase == "settled")} settled rounds (verify)");
            var v = new List<RoundVerification>();
            foreach (var s in summaries.Where(s => s.Phase == "settled"))
            {
                v.Add(await demo.VerifyRoundAsync(s.Round, cancellationToken));
            }
            verified = v;
            supply = (await demo.Api.GetStatusAsync(cancellationToken)).Supply?.Conserved ?? false;
            processes = demo.AllProcesses;
        }
        finally
        {
            await demo.DisposeAsync();
        }
        var orphans = Orphans(processes, chaosWork);
        var ledgerPath = Path.Combine(chaosWork, "coordinator", "ledger.db");
        var (replay, accepted, missing) = await CheckLedgerAsync(ledgerPath, Path.Combine(chaosWork, "coordinator", "blobs", "blobs"), lastRound, cancellationToken);

        var finalized = summaries.Where(s => s.Phase == "settled").OrderBy(s => s.Round).ToArray();
        var accuracy = finalized.LastOrDefault()?.Accuracy;
        double? baseline = null;
        if (options.Baseline && finalized.Length > 0)
        {
            baseline = await BaselineAsync(Path.Combine(work, "baseline"), finalized[^1].Round, cancellationToken);
        }
        if (options.WorkDirectory is null)
        {
            TryDelete(work);
        }

        var checks = new ChaosChecks(
            EveryRoundFinalized: failed.Count == 0 && finalized.Length > 0,
            Verify: verified.Count > 0 && verified.All(r => r.Ok),
            LedgerReplay: replay is null,
            SupplyConserved: supply,
            AcceptedUpdatesKept: missing.Count == 0,
            NoOrphans: orphans.Count == 0,
            NoCrashes: crashes.Count == 0);
        var all = checks.EveryRoundFinalized && checks.Verify && checks.LedgerReplay && checks.SupplyConserved && checks.AcceptedUpdatesKept && checks.NoOrphans && checks.NoCrashes;
        return new ChaosBenchResult(options.Minutes, options.Seed, options.Trainers, options.Validators,
            options.SyntheticExamples > 0 ? $"synthetic ({options.SyntheticExamples} per node)" : "mnist",
            finalized.Length, failed, finalized.Count(s => s.Accepted == 0),
            checks.Verify ? "ok" : "failed", verified.Count, replay ?? "ok", supply, accepted, missing, orphans,
            new[] { ChaosSchedule.Trainer, ChaosSchedule.Validator, ChaosSchedule.Coordinator }.ToDictionary(r => r, r => kills.Count(k => k.Role == r)),
            kills, crashes, proxy.Counts, accuracy is null ? null : Math.Round(accuracy.Value, 4), baseline is null ? null : Math.Round(baseline.Value, 4),
            options.Baseline ? $"the same task and seed without faults, for as many rounds ({finalized.LastOrDefault()?.Round ?? 0})" : "not run",
            checks, all, Math.Round(_clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>Kills and restarts on schedule until the time is up; returns the last round opened by then.</summary>
    private async Task<uint> ChaosAsync(NetworkDemo demo, FaultProxy proxy, List<ChaosKillRecord> kills, List<ChaosCrash> crashes, CancellationToken cancellationToken)
    {
        var trainers = Enumerable.Range(1, options.Trainers).Select(i => $"trainer-{i:00}").ToArray();
        var validators = Enumerable.Range(1, options.Validators).Select(i => $"validator-{i}").ToArray();
        var length = TimeSpan.FromMinutes(options.Minutes);
        var plan = new Queue<ChaosKill>(ChaosSchedule.Plan(options.Seed, length, trainers, validators, options.Kills));
        var restarts = new List<(TimeSpan Due, string Name)>();
        var start = _clock.Elapsed;
        var settledSeen = 0u;
        while (true)
        {
            var now = _clock.Elapsed - start;
            await PollAsync(demo, cancellationToken);
            if (_seen.Round > settledSeen + 9 || (_seen.Phase == "settled" && _seen.Round > settledSeen && _seen.Round % 10 == 0))
            {
                settledSeen = _seen.Round;
                var c = proxy.Counts;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chaos {now.TotalSeconds,6:0.0} s: round {_seen.Round} {_seen.Phase}; {kills.Count} kills; proxy {c.Connections} connections, {c.Resets} resets, {c.Cuts} cuts, {c.DelayedChunks} delayed chunks"));
            }
            foreach (var (name, code) in demo.Crashed())
            {
                // A party that died on its own is a bug to report; it is restarted so that the run can go on.
                crashes.Add(new ChaosCrash(name, code, Math.Round(now.TotalSeconds, 1)));
                log.WriteLine($"chaos: {name} EXITED on its own with code {code}; restarting it");
                await RestartAsync(demo, name, cancellationToken);
            }
            foreach (var due in restarts.Where(r => r.Due <= now).ToArray())
            {
                restarts.Remove(due);
                await RestartAsync(demo, due.Name, cancellationToken);
            }
            if (now >= length)
            {
                foreach (var (_, name) in restarts)
                {
                    await RestartAsync(demo, name, cancellationToken);
                }
                return await LastOpenedAsync(demo, cancellationToken);
            }
            while (plan.TryPeek(out var k) && k.At <= now)
            {
                plan.Dequeue();
                kills.Add(new ChaosKillRecord(Math.Round(now.TotalSeconds, 1), k.Role, k.Victim, Math.Round(k.Downtime.TotalSeconds, 1), _seen.Round, _seen.Phase));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chaos {now.TotalSeconds,6:0.0} s: SIGKILL {k.Victim} (round {_seen.Round} {_seen.Phase}), back in {k.Downtime.TotalSeconds:0.0} s"));
                await demo.KillAsync(k.Victim, cancellationToken);
                restarts.Add((now + k.Downtime, k.Victim));
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    private async Task RestartAsync(NetworkDemo demo, string name, CancellationToken cancellationToken)
    {
        try
        {
            await demo.RestartAsync(name, cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            // Reported as a crash (the check fails); the run goes on without it.
            log.WriteLine($"chaos: restarting {name} failed: {ex.Message}");
        }
    }

    /// <summary>The round and phase the network is in, as far as the API says; nothing when the coordinator is down.</summary>
    private async Task PollAsync(NetworkDemo demo, CancellationToken cancellationToken)
    {
        try
        {
            using var quick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            quick.CancelAfter(TimeSpan.FromSeconds(5));
            var last = (await demo.Api.GetRoundSummariesAsync(1, Math.Max(1, _seen.Round), quick.Token)).MaxBy(s => s.Round);
            if (last is not null)
            {
                _seen = (last.Round, last.Phase);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            _seen = (_seen.Round, "coordinator down");
        }
    }

    private static async Task<uint> LastOpenedAsync(NetworkDemo demo, CancellationToken cancellationToken)
    {
        uint last = 0;
        await WaitAsync(async ct =>
        {
            last = (await demo.Api.GetRoundSummariesAsync(1, ct)).Max(s => s.Round);
            return true;
        }, TimeSpan.FromMinutes(2), "the coordinator to answer after the chaos", cancellationToken);
        return last;
    }

    /// <summary>With faults off and everyone up, waits for rounds up to <paramref name="lastRound"/> to settle and be tested; the rest fail with their phase as the reason.</summary>
    private async Task<List<ChaosFailedRound>> DrainAsync(NetworkDemo demo, uint lastRound, List<ChaosCrash> crashes, CancellationToken cancellationToken)
    {
        // Every phase has a deadline, so a round with all its nodes up settles within their sum; twice that, plus restarts.
        var bound = TimeSpan.FromSeconds((2 * (options.DeadlineSeconds.Training + options.DeadlineSeconds.Commit + options.DeadlineSeconds.Reveal)) + 60);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<ApiRoundSummary> rounds = [];
        while (clock.Elapsed < bound)
        {
            foreach (var (name, code) in demo.Crashed())
            {
                crashes.Add(new ChaosCrash(name, code, Math.Round(_clock.Elapsed.TotalSeconds, 1)));
                log.WriteLine($"chaos: {name} EXITED on its own with code {code} after the faults stopped; restarting it");
                await RestartAsync(demo, name, cancellationToken);
            }
            try
            {
                rounds = await demo.Api.GetRoundSummariesAsync(1, cancellationToken);
                if (Enumerable.Range(1, (int)lastRound).All(r => rounds.Any(s => s.Round == r && s.Phase == "settled" && s.Accuracy is not null)))
                {
                    return [];
                }
            }
            catch (HttpRequestException)
            {
                // the coordinator is still coming back
            }
            await Task.Delay(500, cancellationToken);
        }
        return [.. Enumerable.Range(1, (int)lastRound).Select(r => (uint)r)
            .Select(r => (Round: r, Summary: rounds.FirstOrDefault(s => s.Round == r)))
            .Where(x => x.Summary is not { Phase: "settled", Accuracy: not null })
            .Select(x => new ChaosFailedRound(x.Round, x.Summary is null ? "never opened"
                : x.Summary.Phase == "settled" ? $"settled but its model was not tested within {bound.TotalSeconds:0} s"
                : $"still {x.Summary.Phase} {bound.TotalSeconds:0} s after the faults stopped ({x.Summary.Updates} of {x.Summary.PickedTrainers} updates, {x.Summary.Committed} of {x.Summary.PickedValidators} commits, {x.Summary.Revealed} reveals)"))];
    }

    /// <summary>
    /// Replays the chain from genesis, and checks that every update the ledger accepted in rounds up to
    /// <paramref name="lastRound"/> is in the coordinator's blob store with bytes that hash to its name.
    /// </summary>
    private static async Task<(string? ReplayFailure, int Accepted, IReadOnlyList<string> Missing)> CheckLedgerAsync(string ledgerPath, string blobs, uint lastRound, CancellationToken cancellationToken)
    {
        var report = await EmbeddedLedger.VerifyAsync(ledgerPath, cancellationToken);
        var missing = new List<string>();
        var accepted = 0;
        await using (var ledger = await EmbeddedLedger.OpenAsync(ledgerPath, cancellationToken: cancellationToken))
        {
            for (uint r = 1; r <= lastRound; r++)
            {
                if (await ledger.GetRoundAsync(1, r, cancellationToken) is not { } round)
                {
                    continue;
                }
                foreach (var o in round.Outcomes.Where(o => o.Accepted))
                {
                    accepted++;
                    var hash = o.UpdateHash.ToString()[2..];
                    var file = Path.Combine(blobs, hash[..2], hash[2..]);
                    if (!File.Exists(file))
                    {
                        missing.Add($"round {r}: {hash} (from {o.Trainer}) is not in the blob store");
                    }
                    else if (Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file, cancellationToken))) != hash)
                    {
                        missing.Add($"round {r}: {hash} (from {o.Trainer}) has other bytes");
                    }
                }
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return (report.Ok ? null : report.Reason ?? "failed", accepted, missing);
    }

    /// <summary>
    /// PIDs of the run's processes still alive, and of any process whose command line names the run's folder (a
    /// grandchild a kill missed).
    /// </summary>
    private static List<int> Orphans(IReadOnlyList<Process> processes, string folder)
    {
        var alive = new HashSet<int>();
        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    alive.Add(p.Id);
                }
            }
            catch (InvalidOperationException)
            {
                // never started
            }
        }
        if (OperatingSystem.IsLinux())
        {
            foreach (var dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
                {
                    continue;
                }
                try
                {
                    var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                    if (cmd.Contains(folder, StringComparison.Ordinal) && !File.ReadAllText(Path.Combine(dir, "stat")).Contains(") Z ", StringComparison.Ordinal))
                    {
                        alive.Add(pid);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // gone while we looked
                }
            }
        }
        return [.. alive.Order()];
    }

    /// <summary>The same network, task and seed with no proxy and no kills, until <paramref name="rounds"/> rounds are tested; its accuracy then.</summary>
    private async Task<double?> BaselineAsync(string folder, uint rounds, CancellationToken cancellationToken)
    {
        log.WriteLine($"baseline: the same task and seed without faults, {rounds} rounds");
        await using var demo = new NetworkDemo(options.Demo(null, 0, 0) with { WorkDirectory = folder, Keep = options.WorkDirectory is not null }, mnist, log);
        await demo.StartAsync(cancellationToken);
        double? accuracy = null;
        var bound = TimeSpan.FromSeconds(300 + (rounds * (options.DeadlineSeconds.Training + options.DeadlineSeconds.Commit + options.DeadlineSeconds.Reveal)));
        await WaitAsync(async ct =>
        {
            var r = (await demo.Api.GetRoundSummariesAsync(1, rounds, ct)).FirstOrDefault(s => s.Round == rounds && s.Phase == "settled" && s.Accuracy is not null);
            accuracy = r?.Accuracy;
            return r is not null;
        }, bound, $"the baseline's round {rounds}", cancellationToken);
        return accuracy;
    }

    private static async Task WaitAsync(Func<CancellationToken, Task<bool>> done, TimeSpan bound, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await done(cancellationToken))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not up yet
            }
            if (clock.Elapsed > bound)
            {
                throw new TimeoutException($"waited {bound.TotalSeconds:0} s for {what}");
            }
            await Task.Delay(250, cancellationToken);
        }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            log.WriteLine($"could not delete {folder}");
        }
    }
}
