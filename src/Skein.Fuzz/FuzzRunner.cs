using System.Diagnostics;
using Skein.Core;

namespace Skein.Fuzz;

/// <summary>
/// Runs a target on a worker thread, input after input, while the calling thread watches the clock: an input still
/// running after <see cref="FuzzOptions.HangAfter"/> is a hang, and since a thread cannot be stopped from outside,
/// the run ends there (the stuck worker is a background thread and dies with the process). An exception the target
/// does not classify is a crash; the run goes on after it. Everything follows from the seed.
/// </summary>
public static class FuzzRunner
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(50);

    public static FuzzReport Run(FuzzTarget target, FuzzOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        var state = new RunState(target, options, time);
        var worker = new Thread(state.Loop) { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();
        while (!worker.Join(WatchInterval))
        {
            if (state.CurrentStartedAt is { } started && time.GetElapsedTime(started) > options.HangAfter)
            {
                state.ReportHang(time.GetElapsedTime(started));
                break;
            }
        }
        return state.Report();
    }

    private sealed class RunState(FuzzTarget target, FuzzOptions options, TimeProvider time)
    {
        private readonly List<FuzzFinding> _findings = [];
        private readonly HashSet<string> _signatures = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private readonly long _start = time.GetTimestamp();
        private long _inputs;
        private long _accepted;
        private long _refused;
        private long _crashes;
        private long _hangs;
        private long _currentStart;
        private long _currentIndex;
        private byte[] _current = [];
        private volatile bool _stop;
        private double? _seconds;

        /// <summary>The timestamp at which the running input started, or null between inputs.</summary>
        public long? CurrentStartedAt
        {
            get
            {
                var t = Interlocked.Read(ref _currentStart);
                return t == 0 ? null : t;
            }
        }

        public void Loop()
        {
            var source = new InputSource(target, DeterministicRandom.Derive(options.Seed, "fuzz:" + target.Name));
            for (long i = 0; i < options.MaxInputs && !_stop && time.GetElapsedTime(_start) < options.MaxTime; i++)
            {
                var input = source.Next();
                Volatile.Write(ref _current, input);
                Interlocked.Exchange(ref _currentIndex, i);
                var started = time.GetTimestamp();
                Interlocked.Exchange(ref _currentStart, started);
                FuzzOutcome? outcome = null;
                try
                {
                    outcome = target.Run(input);
                }
#pragma warning disable CA1031 // Every exception a target lets through is exactly what fuzzing looks for.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Interlocked.Increment(ref _crashes);
                    Keep("crash", i, ex, input);
                }
                Interlocked.Exchange(ref _currentStart, 0);
                if (_stop)
                {
                    return; // the watchdog has already reported this input as a hang
                }
                var took = time.GetElapsedTime(started);
                if (took > options.HangAfter)
                {
                    // Finished, but past the bound: as bad for a server as one that never returns.
                    Interlocked.Increment(ref _hangs);
                    Keep("hang", i, null, input, $"took {took.TotalSeconds:0.00} s (bound {options.HangAfter.TotalSeconds:0.##} s)");
                }
                else if (outcome == FuzzOutcome.Accepted)
                {
                    Interlocked.Increment(ref _accepted);
                    source.Accepted(input);
                }
                else if (outcome == FuzzOutcome.Refused)
                {
                    Interlocked.Increment(ref _refused);
                }
                Interlocked.Increment(ref _inputs);
            }
            _seconds = time.GetElapsedTime(_start).TotalSeconds;
        }

        public void ReportHang(TimeSpan running)
        {
            _stop = true;
            _seconds = time.GetElapsedTime(_start).TotalSeconds;
            Interlocked.Increment(ref _hangs);
            Interlocked.Increment(ref _inputs);
            Keep("hang", Interlocked.Read(ref _currentIndex), null, Volatile.Read(ref _current),
                $"still running after {running.TotalSeconds:0.00} s (bound {options.HangAfter.TotalSeconds:0.##} s); the run stopped here");
        }

        public FuzzReport Report()
        {
            lock (_gate)
            {
                return new FuzzReport(target.Name, Interlocked.Read(ref _inputs), Interlocked.Read(ref _accepted), Interlocked.Read(ref _refused),
                    Interlocked.Read(ref _crashes), Interlocked.Read(ref _hangs), Math.Round(_seconds ?? time.GetElapsedTime(_start).TotalSeconds, 3), [.. _findings]);
            }
        }

        private void Keep(string kind, long index, Exception? ex, byte[] input, string? message = null)
        {
            // One finding per exception type and throwing frame: a million inputs through one bug are one bug.
            var where = ex is null ? "" : Where(ex);
            var signature = $"{kind}|{ex?.GetType().FullName}|{where}";
            lock (_gate)
            {
                if (_findings.Count >= options.KeepFindings || !_signatures.Add(signature))
                {
                    return;
                }
                var finding = new FuzzFinding(kind, index, ex?.GetType().FullName ?? "", message ?? ex?.Message ?? "", where, input);
                if (options.FindingsDirectory is { } dir)
                {
                    Directory.CreateDirectory(dir);
                    var path = Path.Combine(dir, $"{target.Name}-{kind}-{index}.bin");
                    File.WriteAllBytes(path, input);
                    finding = finding with { SavedTo = path };
                }
                _findings.Add(finding);
            }
        }

        private static string Where(Exception ex)
        {
            var frames = new StackTrace(ex, false).GetFrames();
            var frame = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Skein", StringComparison.Ordinal) == true) ?? frames.FirstOrDefault();
            var method = frame?.GetMethod();
            return method is null ? "" : $"{method.DeclaringType?.FullName}.{method.Name}";
        }
    }
}
