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

/// <summary>A 100 MB upload over gRPC on loopback beside a same-run file copy of the same bytes.</summary>
/// <remarks>
/// The coordinator acknowledges an upload only once its bytes are flushed to disk (a restarted coordinator must
/// still hold every accepted update), so the baseline the ratio uses is a copy that is flushed too
/// (<c>durable_copy</c>); a copy left in the page cache (<c>copy</c>) is reported beside it.
/// </remarks>
public sealed record UploadThroughput(long Bytes, double GrpcSeconds, double GrpcMbPerSecond, double CopySeconds, double CopyMbPerSecond, double DurableCopySeconds, double DurableCopyMbPerSecond, double Ratio, double RatioToCopy);

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
    public static async Task<IReadOnlyList<RoundOverhead>> OverheadAsync(int nodes, int samplesPerNode, int epochs, uint rounds, TextWriter log, CancellationToken ct)
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
                { "name": "bench-round", "model": "2nn", "rounds": {{rounds}}, "trainers_per_round": {{nodes}}, "validators_per_round": 3,
                  "training": { "epochs": {{epochs}}, "batch_size": 10, "lr": 0.05 }, "reward_pool": "100", "min_stake": "1", "reject_below": 0 }
                """);
            var taskId = await host.HostTaskAsync(spec, seed: 1, ct);
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
                    Trained = (_, round, elapsed) => trained[(round, node)] = elapsed,
                }, Key(trainers[i]), NullLogger.Instance).RunAsync(stop.Token));
            }
            for (var i = 0; i < validators.Length; i++)
            {
                var data = Path.Combine(dir, validators[i]);
                SyntheticImages.WriteIdxFiles(data, "heldout", 500, 1000 + (ulong)i);
                daemons.Add(new NodeDaemon(new NodeOptions
                {
                    Coordinator = host.Uri,
                    DataDirectory = data,
                    StateDirectory = Path.Combine(data, "state"),
                    ValidatorStake = Tokens.Whole(5),
                }, Key(validators[i]), NullLogger.Instance).RunAsync(stop.Token));
            }
            var ledger = host.Context.Ledger;
            for (var i = 0; i < 1200; i++)
            {
                var t = (await ledger.GetTaskAsync(taskId, ct))!;
                if (t.Trainers.Count == nodes && t.Validators.Count == validators.Length)
                {
                    break;
                }
                await Task.Delay(100, ct);
            }
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
            return results;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(dir);
        }
    }

    /// <summary>
    /// A trainer in a process of its own (as on a real network, where node and coordinator share no runtime)
    /// uploads <paramref name="bytes"/> random bytes as its update; the time from its first call to the
    /// coordinator's answer (all bytes received, flushed to disk, SHA-256 checked) is set beside copies of the same
    /// file made in this run: flushed to disk, and left in the page cache. The blob is not a model, so the
    /// coordinator then refuses it as an update: its checks come after the transfer this measures.
    /// </summary>
    public static async Task<UploadThroughput> UploadAsync(long bytes, TextWriter log, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("skein-bench-upload-").FullName;
        try
        {
            var genesis = new Genesis(31338, LedgerParams.Default,
                UploadParties.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
            var options = new CoordinatorOptions { DataDirectory = Path.Combine(dir, "coordinator"), MaxUpdateBytes = bytes + (1 << 20), Timings = new RoundTimings(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)) };
            await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
            var taskId = await host.HostTaskAsync("""
                { "name": "bench-upload", "model": "2nn", "rounds": 1, "trainers_per_round": 1, "validators_per_round": 1,
                  "reward_pool": "10", "min_stake": "1", "reject_below": 0, "max_update_bytes": 4000000000 }
                """, seed: 1, ct);

            var payload = new byte[bytes];
            new Random(7).NextBytes(payload);
            var source = Path.Combine(dir, "update.bin");
            await File.WriteAllBytesAsync(source, payload, ct);
            // Warm the page cache, as a node that has just written its update would have it.
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

            var keyFile = Path.Combine(dir, "uploader.json");
            using (var uploader = Key("uploader"))
            {
                await File.WriteAllTextAsync(keyFile, Skein.Ledger.Crypto.KeyFile.Encrypt(uploader, "bench", KdfStrength.Light), ct);
            }
            var psi = NetworkDemo.SelfLaunch(["bench", "upload-client", "--coordinator", host.Uri.ToString(), "--key-file", keyFile, "--task", taskId.ToString(CultureInfo.InvariantCulture), "--file", source]);
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
            await child.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(5), ct);
            if (child.ExitCode != 0 || !double.TryParse(answer.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var grpcSeconds))
            {
                throw new InvalidOperationException($"the uploading process failed (exit {child.ExitCode}): {answer}");
            }
            double Mbps(double seconds) => bytes / 1e6 / seconds;
            var copySeconds = copyClock.Elapsed.TotalSeconds;
            var durableSeconds = durableClock.Elapsed.TotalSeconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  gRPC {grpcSeconds:0.000} s, copy {copySeconds:0.000} s, flushed copy {durableSeconds:0.000} s"));
            return new UploadThroughput(bytes, Math.Round(grpcSeconds, 3), Math.Round(Mbps(grpcSeconds), 1),
                Math.Round(copySeconds, 3), Math.Round(Mbps(copySeconds), 1),
                Math.Round(durableSeconds, 3), Math.Round(Mbps(durableSeconds), 1),
                Math.Round(Mbps(grpcSeconds) / Mbps(durableSeconds), 3), Math.Round(Mbps(grpcSeconds) / Mbps(copySeconds), 3));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(dir);
        }
    }

    /// <summary>
    /// The uploading side of <see cref="UploadAsync"/>, run in its own process: signs in, stakes and joins, waits for
    /// the round to open, then uploads the file and returns the seconds from the first upload call to the answer.
    /// </summary>
    public static async Task<double> UploadClientAsync(Uri coordinator, LedgerKey key, ulong taskId, string file, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key);
        var payload = await File.ReadAllBytesAsync(file, ct);
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
        // A first, small upload warms the code paths (JIT) and the connection, as on a node that has run a while.
        await RefusedUploadAsync(connection, taskId, payload.AsMemory(0, Math.Min(payload.Length, 8 << 20)).ToArray(), ct);
        var clock = Stopwatch.StartNew();
        await RefusedUploadAsync(connection, taskId, payload, ct);
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task RefusedUploadAsync(CoordinatorConnection connection, ulong taskId, byte[] payload, CancellationToken ct)
    {
        try
        {
            await connection.UploadAsync(taskId, 1, payload, ct);
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.InvalidArgument)
        {
            // Refused as an update after the transfer, as expected for random bytes.
        }
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
