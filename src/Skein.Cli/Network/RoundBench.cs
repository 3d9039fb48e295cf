using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Skein.Node;

namespace Skein.Cli.Network;

/// <summary>One measured round: its wall time (opened to settled) beside the longest local training in it.</summary>
/// <remarks>The phases split the wall time: training (open until every update is in), commits (validators download and score, then commit) and reveals with settlement (reveal, aggregate, finalize).</remarks>
public sealed record RoundOverhead(int Nodes, int SamplesPerNode, int Epochs, uint Round, double RoundSeconds, double LongestTrainingSeconds, double Ratio,
    double TrainingPhaseSeconds, double CommitPhaseSeconds, double RevealAndSettleSeconds);

/// <summary>
/// The light-node case of <c>bench round</c>: its rounds, the median ratio and overhead (round time beyond the
/// simulated training), and this process's managed heap per connected node (coordinator and in-process node alike).
/// </summary>
public sealed record LightScale(int Nodes, string Model, double SimulatedTrainingSeconds, IReadOnlyList<RoundOverhead> Rounds, double MedianRatio, double MedianOverheadSeconds,
    double ManagedKbPerNode);

/// <summary>About 100 MB of valid updates uploaded through the coordinator's whole update path, beside a bare HTTP/2 POST of the same bytes and a file copy, all in one run.</summary>
/// <remarks>
/// The update path is what a node's upload costs: hashing, the transfer over gRPC, the checks of the update
/// (safetensors, names, shapes, finite values) and storing it flushed to disk. The baseline
/// (<c>http2_seconds</c>) sends the same bytes in plain HTTP/2 POSTs between the same two processes to an endpoint
/// that drops them; <c>upload_vs_http2</c> is the baseline's time over the update path's (1 = no cost beyond the
/// transport). The file copies (flushed, and left in the page cache) are the earlier baselines, kept for comparison.
/// The CPU time both processes spent on each (<c>upload_cpu_seconds</c>, <c>http2_cpu_seconds</c>) shows how busy the
/// cores were: when the baseline already keeps every core busy, <c>cpu_bound_ratio</c> (its CPU time over the update
/// path's) is the best <c>upload_vs_http2</c> this machine can give, whatever the overlap.
/// </remarks>
public sealed record UploadThroughput(long Bytes, double GrpcSeconds, double GrpcMbPerSecond, double CopySeconds, double CopyMbPerSecond, double DurableCopySeconds, double DurableCopyMbPerSecond, double Ratio, double RatioToCopy,
    int Updates, long UpdateBytes, double Http2Seconds, double Http2MbPerSecond, double UploadVsHttp2, int Repetitions,
    double UploadCpuSeconds, double Http2CpuSeconds, double Http2CoresBusy, double CpuBoundRatio, int Cores);

/// <summary>What the uploading process measured: per repetition, the seconds of all updates through the update path and of the same bytes in bare HTTP/2 POSTs.</summary>
public sealed record UploadClientTimes(double[] UploadSeconds, double[] Http2Seconds, int Updates, long UpdateBytes, double[] UploadCpuSeconds, double[] Http2CpuSeconds);

/// <summary>
/// <c>skein bench round</c>: the platform's overhead per round and its upload throughput, with every party in
/// this process but talking real gRPC over loopback through a real coordinator (ledger, blob store, engine).
/// </summary>
public static class RoundBench
{
    /// <summary>
    /// Runs a task of <paramref name="rounds"/> rounds with <paramref name="nodes"/> trainers of the 2NN and three
    /// validators, and reports every round after the first two (which pay for JIT, tiered recompilation and
    /// connection set-up).
    /// </summary>
    public static async Task<IReadOnlyList<RoundOverhead>> OverheadAsync(int nodes, int samplesPerNode, int epochs, uint rounds, TextWriter log, CancellationToken ct) =>
        (await RunAsync(nodes, samplesPerNode, epochs, rounds, "2nn", null, 500, log, ct)).Rounds;

    /// <summary>
    /// The same with <paramref name="nodes"/> light trainers of the tiny logistic-regression model: each waits
    /// <paramref name="simulatedTraining"/> without using the CPU instead of training (a node on a machine of its own),
    /// while download, upload, checks, signed transactions, the validators' scoring and aggregation are all real.
    /// Memory per node is the growth of this process (coordinator and nodes alike) once every node has joined,
    /// divided by their number: an upper bound of what one connected node costs the coordinator.
    /// </summary>
    public static Task<LightScale> LightAsync(int nodes, TimeSpan simulatedTraining, uint rounds, TextWriter log, CancellationToken ct) =>
        RunAsync(nodes, 60, 1, rounds, "logreg", simulatedTraining, 200, log, ct);

    private static async Task<LightScale> RunAsync(int nodes, int samplesPerNode, int epochs, uint rounds, string model, TimeSpan? simulatedTraining, int heldout, TextWriter log, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("skein-bench-round-").FullName;
        try
        {
            string[] trainers = [.. Enumerable.Range(1, nodes).Select(i => $"t{i}")];
            string[] validators = ["v1", "v2", "v3"];
            var genesis = new Genesis(31337, LedgerParams.Default,
                ((string[])["coordinator", .. trainers, .. validators]).Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
            var options = new CoordinatorOptions { DataDirectory = Path.Combine(dir, "coordinator"), Timings = new RoundTimings(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(2)) };
            await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
            var spec = string.Create(CultureInfo.InvariantCulture, $$"""
                { "name": "bench-round", "model": "{{model}}", "rounds": {{rounds}}, "trainers_per_round": {{nodes}}, "validators_per_round": 3,
                  "training": { "epochs": {{epochs}}, "batch_size": 10, "lr": 0.05 }, "reward_pool": "100", "min_stake": "1", "reject_below": 0 }
                """);
            var taskId = await host.HostTaskAsync(spec, seed: 1, ct);
            var managedBefore = ManagedBytes();
            var trained = new ConcurrentDictionary<(uint Round, int Node), TimeSpan>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var daemons = new List<Task>();
            for (var i = 0; i < trainers.Length; i++)
            {
                var data = Path.Combine(dir, trainers[i]);
                SyntheticImages.WriteIdxFiles(data, "train", samplesPerNode, (ulong)i + 1);
                var node = i;
                daemons.Add(new NodeDaemon(new NodeOptions
                {
                    Coordinator = host.Uri,
                    DataDirectory = data,
                    StateDirectory = Path.Combine(data, "state"),
                    TrainerStake = Tokens.Whole(5),
                    SimulatedTraining = simulatedTraining,
                    Trained = (_, round, elapsed) => trained[(round, node)] = elapsed,
                }, Key(trainers[i]), NullLogger.Instance).RunAsync(stop.Token));
            }
            for (var i = 0; i < validators.Length; i++)
            {
                var data = Path.Combine(dir, validators[i]);
                SyntheticImages.WriteIdxFiles(data, "heldout", heldout, 1000 + (ulong)i);
                daemons.Add(new NodeDaemon(new NodeOptions
                {
                    Coordinator = host.Uri,
                    DataDirectory = data,
                    StateDirectory = Path.Combine(data, "state"),
                    ValidatorStake = Tokens.Whole(5),
                }, Key(validators[i]), NullLogger.Instance).RunAsync(stop.Token));
            }
            var ledger = host.Context.Ledger;
            for (var i = 0; i < 6000; i++)
            {
                var t = (await ledger.GetTaskAsync(taskId, ct))!;
                if (t.Trainers.Count == nodes && t.Validators.Count == validators.Length)
                {
                    break;
                }
                await Task.Delay(100, ct);
            }
            var managedAfter = ManagedBytes();
            log.WriteLine($"{nodes} trainers and 3 validators joined; running {rounds} rounds");

            // Poll the ledger (in memory) every 5 ms for when each round opens and settles.
            var opened = new Dictionary<uint, TimeSpan>();
            var settled = new Dictionary<uint, TimeSpan>();
            var committing = new Dictionary<uint, TimeSpan>();
            var revealing = new Dictionary<uint, TimeSpan>();
            var clock = Stopwatch.StartNew();
            host.StartEngine(taskId);
            var engine = host.Engines[^1];
            for (var i = 0; i < 2_000_000 && settled.Count < rounds; i++)
            {
                if (engine.IsFaulted)
                {
                    await engine;
                }
                for (uint r = 1; r <= rounds; r++)
                {
                    if (!opened.ContainsKey(r) && await ledger.GetRoundAsync(taskId, r, ct) is { } info)
                    {
                        opened[r] = clock.Elapsed;
                    }
                    var phase = opened.ContainsKey(r) && !settled.ContainsKey(r) ? (await ledger.GetRoundAsync(taskId, r, ct))?.Phase : null;
                    if (phase is RoundPhase.Committing or RoundPhase.Revealing or RoundPhase.Settled)
                    {
                        committing.TryAdd(r, clock.Elapsed);
                    }
                    if (phase is RoundPhase.Revealing or RoundPhase.Settled)
                    {
                        revealing.TryAdd(r, clock.Elapsed);
                    }
                    if (opened.TryGetValue(r, out var since) && phase is RoundPhase.Settled)
                    {
                        settled[r] = clock.Elapsed;
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {r}: {(settled[r] - since).TotalSeconds:0.000} s"));
                    }
                }
                await Task.Delay(5, ct);
            }
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(daemons).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or Grpc.Core.RpcException or InvalidOperationException)
            {
                // the daemons stop with the benchmark
            }
            var results = new List<RoundOverhead>();
            for (uint r = WarmUpRounds + 1; r <= rounds; r++)
            {
                var wall = (settled[r] - opened[r]).TotalSeconds;
                var longest = trained.Where(kv => kv.Key.Round == r).Select(kv => kv.Value.TotalSeconds).DefaultIfEmpty(double.NaN).Max();
                results.Add(new RoundOverhead(nodes, samplesPerNode, epochs, r, Math.Round(wall, 3), Math.Round(longest, 3), Math.Round(wall / longest, 3),
                    Math.Round((committing[r] - opened[r]).TotalSeconds, 3), Math.Round((revealing[r] - committing[r]).TotalSeconds, 3), Math.Round((settled[r] - revealing[r]).TotalSeconds, 3)));
            }
            var perNode = nodes + validators.Length;
            return new LightScale(nodes, model, Math.Round(simulatedTraining?.TotalSeconds ?? 0, 3), results,
                Median([.. results.Select(o => o.Ratio)]), Math.Round(Median([.. results.Select(o => o.RoundSeconds - o.LongestTrainingSeconds)]), 3),
                Math.Round((managedAfter - managedBefore) / 1024.0 / perNode, 1));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(dir);
        }
    }

    /// <summary>
    /// A trainer in a process of its own (as on a real network, where node and coordinator share no runtime)
    /// uploads valid CNN updates adding up to about <paramref name="bytes"/>, one after the other, and then posts the
    /// same bytes to a bare HTTP/2 endpoint in this (the coordinator's) process, alternating for
    /// <paramref name="repetitions"/> rounds of each; the medians are compared. File copies of the same bytes made
    /// in this run are reported beside them.
    /// </summary>
    public static async Task<UploadThroughput> UploadAsync(long bytes, TextWriter log, CancellationToken ct, int repetitions = 3)
    {
        var dir = Directory.CreateTempSubdirectory("skein-bench-upload-").FullName;
        try
        {
            var genesis = new Genesis(31338, LedgerParams.Default,
                UploadParties.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
            var options = new CoordinatorOptions { DataDirectory = Path.Combine(dir, "coordinator"), Timings = new RoundTimings(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)) };
            await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
            var taskId = await host.HostTaskAsync("""
                { "name": "bench-upload", "model": "cnn", "rounds": 1, "trainers_per_round": 1, "validators_per_round": 1,
                  "reward_pool": "10", "min_stake": "1", "reject_below": 0 }
                """, seed: 1, ct);
            await using var bare = await BareHttp2Sink.StartAsync(ct);

            var keyFile = Path.Combine(dir, "uploader.json");
            using (var uploader = Key("uploader"))
            {
                await File.WriteAllTextAsync(keyFile, Skein.Ledger.Crypto.KeyFile.Encrypt(uploader, "bench", KdfStrength.Light), ct);
            }
            var psi = NetworkDemo.SelfLaunch(["bench", "upload-client", "--coordinator", host.Uri.ToString(), "--key-file", keyFile, "--task", taskId.ToString(CultureInfo.InvariantCulture),
                "--bytes", bytes.ToString(CultureInfo.InvariantCulture), "--bare", bare.Uri.ToString(), "--repetitions", repetitions.ToString(CultureInfo.InvariantCulture),
                "--server-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]);
            psi.RedirectStandardOutput = true;
            psi.UseShellExecute = false;
            psi.Environment["SKEIN_KEY_PASSWORD"] = "bench";
            using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the uploading process");
            // The round opens once the uploader has joined.
            for (var i = 0; i < 600 && (await host.Context.Ledger.GetTaskAsync(taskId, ct))!.Trainers.Count == 0 && !child.HasExited; i++)
            {
                await Task.Delay(50, ct);
            }
            host.StartEngine(taskId);
            var answer = await child.StandardOutput.ReadToEndAsync(ct);
            await child.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(10), ct);
            var times = child.ExitCode == 0 ? System.Text.Json.JsonSerializer.Deserialize<UploadClientTimes>(answer, JsonOutput.Options) : null;
            if (times is null || times.UploadSeconds.Length == 0 || times.Http2Seconds.Length == 0)
            {
                throw new InvalidOperationException($"the uploading process failed (exit {child.ExitCode}): {answer}");
            }
            var total = times.Updates * times.UpdateBytes;

            // The same number of bytes copied as files, flushed and not.
            var source = Path.Combine(dir, "update.bin");
            var payload = new byte[total];
            new Random(7).NextBytes(payload);
            await File.WriteAllBytesAsync(source, payload, ct);
            File.Copy(source, Path.Combine(dir, "warm.bin"));
            var copyClock = Stopwatch.StartNew();
            File.Copy(source, Path.Combine(dir, "copy.bin"));
            copyClock.Stop();
            var durableClock = Stopwatch.StartNew();
            File.Copy(source, Path.Combine(dir, "durable.bin"));
            using (var handle = File.OpenHandle(Path.Combine(dir, "durable.bin"), FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.FlushToDisk(handle);
            }
            durableClock.Stop();

            var uploadSeconds = Median(times.UploadSeconds);
            var http2Seconds = Median(times.Http2Seconds);
            var uploadCpu = Median(times.UploadCpuSeconds);
            var http2Cpu = Median(times.Http2CpuSeconds);
            double Mbps(double seconds) => total / 1e6 / seconds;
            var copySeconds = copyClock.Elapsed.TotalSeconds;
            var durableSeconds = durableClock.Elapsed.TotalSeconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {times.Updates} updates of {times.UpdateBytes:N0} bytes: update path {string.Join(", ", times.UploadSeconds.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))} s; bare HTTP/2 {string.Join(", ", times.Http2Seconds.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))} s; copy {copySeconds:0.000} s, flushed copy {durableSeconds:0.000} s"));
            return new UploadThroughput(total, Math.Round(uploadSeconds, 3), Math.Round(Mbps(uploadSeconds), 1),
                Math.Round(copySeconds, 3), Math.Round(Mbps(copySeconds), 1),
                Math.Round(durableSeconds, 3), Math.Round(Mbps(durableSeconds), 1),
                Math.Round(Mbps(uploadSeconds) / Mbps(durableSeconds), 3), Math.Round(Mbps(uploadSeconds) / Mbps(copySeconds), 3),
                times.Updates, times.UpdateBytes, Math.Round(http2Seconds, 3), Math.Round(Mbps(http2Seconds), 1), Math.Round(http2Seconds / uploadSeconds, 3), times.UploadSeconds.Length,
                Math.Round(uploadCpu, 3), Math.Round(http2Cpu, 3), Math.Round(http2Cpu / http2Seconds, 2), Math.Round(http2Cpu / uploadCpu, 3), Environment.ProcessorCount);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(dir);
        }
    }

    /// <summary>
    /// The uploading side of <see cref="UploadAsync"/>, run in its own process: signs in, stakes and joins, waits for
    /// the round to open, makes distinct valid CNN updates of about <paramref name="bytes"/> in all for each
    /// repetition, and times them through the update path and as bare HTTP/2 POSTs to <paramref name="bare"/>,
    /// alternating so that both see the same machine.
    /// </summary>
    public static async Task<UploadClientTimes> UploadClientAsync(Uri coordinator, LedgerKey key, ulong taskId, long bytes, Uri bare, int repetitions, int serverPid, CancellationToken ct)
    {
        using var server = Process.GetProcessById(serverPid);
        using var self = Process.GetCurrentProcess();
        // CPU time of both processes (this one and the coordinator's), so that the report can say how busy the cores were.
        double Cpu()
        {
            server.Refresh();
            self.Refresh();
            return (server.TotalProcessorTime + self.TotalProcessorTime).TotalSeconds;
        }
        ArgumentNullException.ThrowIfNull(key);
        using var connection = new CoordinatorConnection(coordinator, key);
        await connection.SignInAsync(ct);
        await connection.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(5) }, ct);
        await connection.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = taskId, Role = Role.Trainer }, ct);
        using (var watch = connection.Client.WatchRounds(new Protocol.V1.WatchRequest { TaskId = taskId }, connection.Auth, cancellationToken: ct))
        {
            while (await watch.ResponseStream.MoveNext(ct) && watch.ResponseStream.Current.Phase != "training")
            {
                // wait for round 1 to open
            }
        }
        var layout = Skein.Learning.Models.ModelLayouts.For(Skein.Learning.Models.ModelKind.Cnn);
        var random = new Random(11);
        byte[] Update()
        {
            var flat = new float[layout.TotalCount];
            for (var i = 0; i < flat.Length; i++)
            {
                flat[i] = (float)(random.NextDouble() - 0.5) * 0.01f;
            }
            return layout.ToSafeTensors(flat);
        }
        var updateBytes = Update().LongLength;
        var count = (int)Math.Max(1, (bytes + updateBytes - 1) / updateBytes);
        // The same kind of client as the node's gRPC channel: same handler settings, its own connection.
        using var http = new HttpClient(Skein.Core.CertificatePin.Handler(null)) { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        async Task PostAsync(byte[] body)
        {
            using var response = await http.PostAsync(bare, new ByteArrayContent(body), ct);
            response.EnsureSuccessStatusCode();
        }
        // Warm-up of both paths (JIT, connections).
        var warm = Update();
        await connection.UploadAsync(taskId, 1, warm, ct);
        await PostAsync(warm);

        var upload = new List<double>();
        var plain = new List<double>();
        var uploadCpu = new List<double>();
        var plainCpu = new List<double>();
        for (var r = 0; r < repetitions; r++)
        {
            var updates = Enumerable.Range(0, count).Select(_ => Update()).ToArray();
            var cpu = Cpu();
            var clock = Stopwatch.StartNew();
            foreach (var u in updates)
            {
                await connection.UploadAsync(taskId, 1, u, ct);
            }
            upload.Add(clock.Elapsed.TotalSeconds);
            uploadCpu.Add(Cpu() - cpu);
            cpu = Cpu();
            clock.Restart();
            foreach (var u in updates)
            {
                await PostAsync(u);
            }
            plain.Add(clock.Elapsed.TotalSeconds);
            plainCpu.Add(Cpu() - cpu);
        }
        return new UploadClientTimes([.. upload], [.. plain], count, updateBytes, [.. uploadCpu], [.. plainCpu]);
    }

    private static long ManagedBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Rounds run before measuring.</summary>
    public const uint WarmUpRounds = 2;

    private static readonly string[] UploadParties = ["coordinator", "uploader", "v1"];

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("skein-bench-round/" + name)));

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder; the OS cleans it eventually
        }
    }
}
