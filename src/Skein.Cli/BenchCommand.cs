using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Skein.Aggregation;
using Skein.Learning.Data;
using Skein.Learning.Language;
using Skein.Learning.Models;
using Skein.Simulation;
using Skein.Simulation.Benchmarks;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein bench ...`: measurements that are too slow for the unit suite.</summary>
public static class BenchCommand
{
    private static readonly string[] Headers = ["model", "B", "samples", "1 worker", "workers", "all workers", "speed-up", "1 worker, as a node holds its data"];

    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks (figures and how they were measured: docs/benchmarks.md)");
        bench.Add(BuildTrain());
        bench.Add(BenchFlCommand.Build());
        bench.Add(BenchTextCommand.Build());
        bench.Add(BuildAggregate());
        bench.Add(BuildLedger());
        bench.Add(BuildRound());
        bench.Add(BuildUploadClient());
        bench.Add(BuildMarket());
        bench.Add(BenchConsoleCommand.Build());
        bench.Add(BenchFuzzCommand.Build());
        bench.Add(BenchChaosCommand.Build());
        bench.Add(BenchMemoryCommand.Build());
        return bench;
    }

    private static Command BuildMarket()
    {
        var command = new Command("market", "The market: deploy-to-running latency over sequential deployments on 3 local providers, and escrow settlement cost with many open leases");
        var deployments = new Option<int>("--deployments") { Description = "Deployments to time (0: skip)", DefaultValueFactory = _ => 20 };
        var leases = new Option<int>("--leases") { Description = "Open leases for the settlement measurement", DefaultValueFactory = _ => 10_000 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { deployments, leases, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            if (parse.GetValue(deployments) < 0 || parse.GetValue(leases) < 1)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, ["--deployments must be >= 0 and --leases >= 1"]);
            }
            await stderr.WriteLineAsync($"settling {parse.GetValue(leases):N0} open leases ...");
            var settle = Skein.Ledger.Market.MarketBenchmark.Run(parse.GetValue(leases));
            await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {settle.SettleMicrosecondsPerLease:0.00} us per lease (bare loop {settle.BaselineMicrosecondsPerLease:0.000} us), idle block {settle.IdleBlockMicroseconds:0.00} us, state root {settle.StateRootMilliseconds:0.0} ms"));
            Skein.Market.Deploy.DeployBenchmarkResult? deploy = null;
            if (parse.GetValue(deployments) > 0)
            {
                if (!OperatingSystem.IsLinux())
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, ["--deployments: the process runtime the providers use needs Linux; pass --deployments 0"]);
                }
                var templates = Skein.Market.Templates.TemplateRenderer.FindTemplatesRoot()
                    ?? throw new InvalidOperationException("templates/ was not found above the program's folder");
                await stderr.WriteLineAsync($"deploying the trainer template {parse.GetValue(deployments)} times on 3 providers ...");
                deploy = await Skein.Market.Deploy.DeployBenchmark.RunAsync(parse.GetValue(deployments), new Skein.Market.Provider.SkeinImageResolver(Market.ProviderCommand.SelfImage()),
                    templates, stderr, ct);
            }
            var result = new
            {
                deploy_p50_seconds = deploy?.P50Seconds,
                deploy_p95_seconds = deploy?.P95Seconds,
                settle_us_per_lease = Math.Round(settle.SettleMicrosecondsPerLease, 3),
                deploy,
                settlement = settle,
                settle_ratio_to_bare_loop = Math.Round(settle.Ratio, 1),
            };
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]Market[/]");
            table.AddColumn("measure");
            table.AddColumn(new TableColumn("value").RightAligned());
            table.AddColumn("target");
            if (deploy is not null)
            {
                table.AddRow("deploy to running, median", deploy.P50Seconds.ToString("0.00 's'", CultureInfo.InvariantCulture), "<= 5 s");
                table.AddRow("deploy to running, p95", deploy.P95Seconds.ToString("0.00 's'", CultureInfo.InvariantCulture), "");
                table.AddRow("  of which: bids collected and leased (mean)", deploy.MeanLeasedSeconds.ToString("0.00 's'", CultureInfo.InvariantCulture), "");
            }
            table.AddRow($"settling one lease ({settle.Leases:N0} open)", settle.SettleMicrosecondsPerLease.ToString("0.00 'us'", CultureInfo.InvariantCulture), "<= 50 us");
            table.AddRow("  bare loop over the same leases", settle.BaselineMicrosecondsPerLease.ToString("0.000 'us'", CultureInfo.InvariantCulture), "");
            table.AddRow("a block with nothing due", settle.IdleBlockMicroseconds.ToString("0.00 'us'", CultureInfo.InvariantCulture), "");
            table.AddRow("state root with those leases", settle.StateRootMilliseconds.ToString("0.0 'ms'", CultureInfo.InvariantCulture), "");
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) }).Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command BuildAggregate()
    {
        var command = new Command("aggregate", "Aggregation throughput of every strategy in GB/s of update data, beside a same-run memory copy");
        var ns = new Option<string>("--n") { Description = "Comma-separated update counts", DefaultValueFactory = _ => "10,100,1000" };
        var ps = new Option<string>("--p") { Description = "Comma-separated parameter counts", DefaultValueFactory = _ => "200000,1700000,25000000" };
        var names = new Option<string?>("--strategies") { Description = "Comma-separated strategies (default: all)" };
        var maxGib = new Option<double>("--max-gib") { Description = "Skip combinations whose updates exceed this many GiB", DefaultValueFactory = _ => 8.0 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { ns, ps, names, maxGib, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            if (!TryParseList(parse.GetValue(ns)!, out var nList) || nList.Any(v => v < 1))
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--n: expected comma-separated positive integers, got '{parse.GetValue(ns)}'"]);
            }
            if (!TryParseList(parse.GetValue(ps)!, out var pList) || pList.Any(v => v < 1))
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--p: expected comma-separated positive integers, got '{parse.GetValue(ps)}'"]);
            }
            var wanted = parse.GetValue(names)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted?.FirstOrDefault(w => !StrategyFactory.Names.Contains(w)) is { } unknown)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--strategies: '{unknown}' is not one of {string.Join(", ", StrategyFactory.Names)}"]);
            }

            var results = new List<AggregationThroughput>();
            var skipped = new List<object>();
            foreach (var n in nList)
            {
                foreach (var p in pList)
                {
                    var gib = (double)n * p * sizeof(float) / (1L << 30);
                    if (gib > parse.GetValue(maxGib))
                    {
                        skipped.Add(new { n, p, reason = string.Create(CultureInfo.InvariantCulture, $"{gib:0.0} GiB of updates exceeds --max-gib") });
                        continue;
                    }
                    var strategies = AggregationBenchmark.DefaultStrategies(n).Where(s => wanted is null || wanted.Contains(s.Name)).ToArray();
                    await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"n={n} p={p} ({gib:0.00} GiB)..."));
                    foreach (var r in AggregationBenchmark.Run(n, p, strategies, cancellationToken: ct))
                    {
                        results.Add(r);
                        await stderr.WriteLineAsync(r.Skipped is null
                            ? string.Create(CultureInfo.InvariantCulture, $"  {r.Strategy,-13} {r.Gbps,8:0.00} GB/s   copy {r.CopyGbps:0.00} GB/s   ratio {r.Ratio:0.000}")
                            : $"  {r.Strategy,-13} skipped: {r.Skipped}");
                    }
                    GC.Collect();
                }
            }
            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(new { results, skipped }));
                return ExitCodes.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            var table = new Table().Border(TableBorder.Rounded).Title("Aggregation throughput (GB/s of update data)");
            foreach (var h in AggregateHeaders)
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }
            foreach (var r in results)
            {
                table.AddRow(r.Strategy, r.N.ToString(CultureInfo.InvariantCulture), r.P.ToString("#,0", CultureInfo.InvariantCulture),
                    r.Skipped is null ? r.Gbps.ToString("0.00", CultureInfo.InvariantCulture) : "skipped",
                    r.CopyGbps.ToString("0.00", CultureInfo.InvariantCulture),
                    r.Skipped is null ? r.Ratio.ToString("0.000", CultureInfo.InvariantCulture) : "-");
            }
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command BuildRound()
    {
        var command = new Command("round", "Platform overhead per round (round wall time over the longest local training in it) for 10 and 100 nodes and for 100 and 1,000 light nodes, and 100 MB of updates through the update path beside bare HTTP/2 POSTs");
        var nodes = new Option<string>("--nodes") { Description = "Comma-separated trainer counts", DefaultValueFactory = _ => "10,100" };
        var samples = new Option<int>("--samples") { Description = "Training examples per trainer with 10 nodes (the 2NN, B=10; with n nodes each gets this x 10/n)", DefaultValueFactory = _ => 6000 };
        var epochs = new Option<int>("--epochs") { Description = "Local epochs per round", DefaultValueFactory = _ => 1 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds per run; the first two (JIT, connections) are not reported", DefaultValueFactory = _ => 5 };
        var uploadMb = new Option<int>("--upload-mb") { Description = "Size of the upload to time, in MB (0: skip)", DefaultValueFactory = _ => 100 };
        var lightNodes = new Option<string>("--light-nodes") { Description = "Comma-separated counts of light trainers of the logistic-regression model, one run each (they wait instead of training, as nodes on machines of their own; 0: skip)", DefaultValueFactory = _ => "100,1000" };
        var lightTraining = new Option<int>("--light-training-ms") { Description = "How long each light trainer's simulated training lasts, in ms", DefaultValueFactory = _ => 1000 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        foreach (var o in new Option[] { nodes, samples, epochs, rounds, uploadMb, lightNodes, lightTraining, json })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var errors = new List<string>();
            if (!TryParseList(parse.GetValue(nodes)!, out var counts) || counts.Any(c => c is < 1 or > 1000))
            {
                errors.Add($"--nodes must be a comma-separated list of counts between 1 and 1000, got '{parse.GetValue(nodes)}'");
            }
            if (parse.GetValue(samples) < 10)
            {
                errors.Add($"--samples must be >= 10, got {parse.GetValue(samples)}");
            }
            if (parse.GetValue(epochs) < 1)
            {
                errors.Add($"--epochs must be >= 1, got {parse.GetValue(epochs)}");
            }
            if (parse.GetValue(rounds) <= Network.RoundBench.WarmUpRounds)
            {
                errors.Add($"--rounds must be >= {Network.RoundBench.WarmUpRounds + 1} (the first {Network.RoundBench.WarmUpRounds} are a warm-up), got {parse.GetValue(rounds)}");
            }
            if (parse.GetValue(uploadMb) is < 0 or > 4000)
            {
                errors.Add($"--upload-mb must be between 0 and 4000, got {parse.GetValue(uploadMb)}");
            }
            if (!TryParseList(parse.GetValue(lightNodes)!, out var lightCounts) || lightCounts.Any(c => c is < 0 or > 5000))
            {
                errors.Add($"--light-nodes must be a comma-separated list of counts between 0 and 5000 (0: skip), got '{parse.GetValue(lightNodes)}'");
            }
            if (parse.GetValue(lightTraining) is < 1 or > 600_000)
            {
                errors.Add($"--light-training-ms must be between 1 and 600000, got {parse.GetValue(lightTraining)}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, errors);
            }
            var log = parse.InvocationConfiguration.Error;
            var overhead = new List<Network.RoundOverhead>();
            foreach (var n in counts)
            {
                var perNode = Math.Max(10, parse.GetValue(samples) * 10 / Math.Max(10, n));
                await log.WriteLineAsync($"{n} nodes, {perNode} examples each ...");
                overhead.AddRange(await Network.RoundBench.OverheadAsync(n, perNode, parse.GetValue(epochs), (uint)parse.GetValue(rounds), log, ct));
            }
            var lightRuns = new List<Network.LightScale>();
            foreach (var n in lightCounts.Where(c => c > 0))
            {
                await log.WriteLineAsync($"{n} light nodes (logreg, {parse.GetValue(lightTraining)} ms of simulated training each) ...");
                lightRuns.Add(await Network.RoundBench.LightAsync(n, TimeSpan.FromMilliseconds(parse.GetValue(lightTraining)), (uint)parse.GetValue(rounds), log, ct));
            }
            // "light" is the largest run, as it was when there was only one; "light_runs" has them all.
            var light = lightRuns.MaxBy(r => r.Nodes);
            Network.UploadThroughput? upload = null;
            if (parse.GetValue(uploadMb) > 0)
            {
                await log.WriteLineAsync($"uploading {parse.GetValue(uploadMb)} MB of updates through the update path and as bare HTTP/2 POSTs ...");
                upload = await Network.RoundBench.UploadAsync(parse.GetValue(uploadMb) * 1_000_000L, log, ct);
            }
            var summary = counts.Select(n => new
            {
                nodes = n,
                light = false,
                median_ratio = Skein.Learning.Validation.CohortScore.Median(overhead.Where(o => o.Nodes == n).Select(o => o.Ratio).ToArray()),
                max_ratio = overhead.Where(o => o.Nodes == n).Max(o => o.Ratio),
            }).Concat(lightRuns.Select(r => new { nodes = r.Nodes, light = true, median_ratio = r.MedianRatio, max_ratio = r.Rounds.Max(o => o.Ratio) })).ToArray();
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(new { rounds = overhead, summary, light, light_runs = lightRuns, upload }));
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]Round overhead[/] (wall time over the longest local training)");
            foreach (var h in RoundHeaders)
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }
            foreach (var o in overhead)
            {
                table.AddRow(I(o.Nodes), I(o.SamplesPerNode), I((int)o.Round), F(o.RoundSeconds), F(o.LongestTrainingSeconds), F(o.Ratio), F(o.TrainingPhaseSeconds), F(o.CommitPhaseSeconds), F(o.RevealAndSettleSeconds));
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
            console.Write(table);
            foreach (var run in lightRuns)
            {
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.Nodes} light nodes ({run.Model}, {run.SimulatedTrainingSeconds:0.000} s of simulated training): median ratio {run.MedianRatio:0.000}, median overhead {run.MedianOverheadSeconds:0.000} s per round; managed memory per connected node {run.ManagedKbPerNode:#,0.0} KB"));
            }
            if (upload is not null)
            {
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"upload of {upload.Bytes / 1e6:0} MB ({upload.Updates} CNN updates): update path {upload.GrpcMbPerSecond:#,0} MB/s ({upload.GrpcSeconds:0.000} s: hashed, checked, flushed to disk); bare HTTP/2 POST {upload.Http2MbPerSecond:#,0} MB/s ({upload.Http2Seconds:0.000} s); upload_vs_http2 {upload.UploadVsHttp2:0.000} (CPU time of both processes: {upload.UploadCpuSeconds:0.000} s against {upload.Http2CpuSeconds:0.000} s, so at most {upload.CpuBoundRatio:0.000} on {upload.Cores} cores kept {upload.Http2CoresBusy:0.00} busy by the bare POST); file copy flushed {upload.DurableCopyMbPerSecond:#,0} MB/s, in the page cache {upload.CopyMbPerSecond:#,0} MB/s"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The uploading process of <c>bench round</c>; not for direct use.</summary>
    private static Command BuildUploadClient()
    {
        var command = new Command("upload-client", "The uploading process of 'bench round' (internal)") { Hidden = true };
        var coordinator = new Option<string>("--coordinator") { Required = true };
        var keyFile = new Option<string>("--key-file") { Required = true };
        var task = new Option<ulong>("--task") { Required = true };
        var bytes = new Option<long>("--bytes") { Required = true };
        var bare = new Option<string>("--bare") { Required = true };
        var repetitions = new Option<int>("--repetitions") { DefaultValueFactory = _ => 3 };
        var serverPid = new Option<int>("--server-pid") { Required = true };
        foreach (var o in new Option[] { coordinator, keyFile, task, bytes, bare, repetitions, serverPid })
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            using var key = Skein.Ledger.Crypto.KeyFile.Decrypt(await File.ReadAllTextAsync(parse.GetValue(keyFile)!, ct), Environment.GetEnvironmentVariable("SKEIN_KEY_PASSWORD") ?? "", "uploader");
            var times = await Network.RoundBench.UploadClientAsync(new Uri(parse.GetValue(coordinator)!), key, parse.GetValue(task), parse.GetValue(bytes), new Uri(parse.GetValue(bare)!), parse.GetValue(repetitions), parse.GetValue(serverPid), ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(times));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static readonly string[] RoundHeaders = ["nodes", "examples/node", "round", "round s", "longest training s", "ratio", "training phase s", "commit phase s", "reveal+settle s"];

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    private static Command BuildLedger()
    {
        var command = new Command("ledger", "Signed transactions the embedded ledger applies per second (signature checks, state roots and SQLite commits included)");
        var transactions = new Option<int>("--transactions") { Description = "How many signed transfers", DefaultValueFactory = _ => 50_000 };
        var accounts = new Option<int>("--accounts") { Description = "Sending accounts funded at genesis", DefaultValueFactory = _ => 1_000 };
        var blockSize = new Option<int>("--block-size") { Description = "Transactions per block", DefaultValueFactory = _ => 1_000 };
        var verify = new Option<bool>("--verify") { Description = "Also replay the chain from genesis afterwards" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var backend = new Option<string>("--backend") { Description = "embedded (transactions/s) or evm (gas per transaction type and per round on Anvil)", DefaultValueFactory = _ => "embedded" };
        var evm = BenchEvmLedger.Options();
        foreach (var o in new Option[] { transactions, accounts, blockSize, verify, json, backend })
        {
            command.Add(o);
        }
        foreach (var o in evm.All)
        {
            command.Add(o);
        }
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            switch (parse.GetValue(backend))
            {
                case "evm":
                    return await BenchEvmLedger.RunAsync(parse, evm, parse.GetValue(json), ct);
                case "embedded":
                    break;
                default:
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--backend: must be embedded or evm, got '{parse.GetValue(backend)}'"]);
            }
            var errors = new List<string>();
            if (parse.GetValue(transactions) < 1)
            {
                errors.Add($"--transactions must be >= 1, got {parse.GetValue(transactions)}");
            }
            if (parse.GetValue(accounts) < 2)
            {
                errors.Add($"--accounts must be >= 2, got {parse.GetValue(accounts)}");
            }
            if (parse.GetValue(blockSize) < 1)
            {
                errors.Add($"--block-size must be >= 1, got {parse.GetValue(blockSize)}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }
            var folder = Directory.CreateTempSubdirectory("skein-bench-ledger-");
            try
            {
                await stderr.WriteLineAsync($"signing {parse.GetValue(transactions)} transfers from {parse.GetValue(accounts)} accounts...");
                var r = await Skein.Ledger.Storage.LedgerBenchmark.RunAsync(Path.Combine(folder.FullName, "chain.db"), parse.GetValue(transactions),
                    parse.GetValue(accounts), parse.GetValue(blockSize), parse.GetValue(verify), ct);
                var result = new
                {
                    tx_per_second = Math.Round(r.TxPerSecond, 1),
                    transactions = r.Transactions,
                    seconds = Math.Round(r.Seconds, 3),
                    blocks = r.Blocks,
                    signing_seconds = Math.Round(r.SigningSeconds, 3),
                    verified = parse.GetValue(verify) ? r.Verified : (bool?)null,
                };
                if (parse.GetValue(json))
                {
                    await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
                }
                else
                {
                    await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{r.TxPerSecond:#,0} signed transactions/s ({r.Transactions} in {r.Blocks} blocks, {r.Seconds:0.00} s; signing took {r.SigningSeconds:0.00} s){(parse.GetValue(verify) ? (r.Verified ? "; replay verified" : "; REPLAY FAILED") : "")}"));
                }
                return parse.GetValue(verify) && !r.Verified ? ExitCodes.VerificationFailed : ExitCodes.Ok;
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        });
        return command;
    }

    private static readonly string[] AggregateHeaders = ["strategy", "n", "p", "GB/s", "copy GB/s", "ratio"];

    private static bool TryParseList(string text, out int[] values)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }
        }
        return parts.Length > 0;
    }

    private static Command BuildTrain()
    {
        var command = new Command("train", "Local training throughput per model: MNIST models (one worker, then all workers at once) and byte-level transformers (tokens/s, upload size)");
        var models = new Option<string>("--models", "--model")
        {
            Description = $"Comma-separated models to measure: {string.Join(", ", ModelNames.All)}, {string.Join(", ", TransformerConfig.PresetNames)}",
            DefaultValueFactory = _ => "logreg,2nn,cnn",
        };
        var lora = new Option<bool>("--lora") { Description = "Transformers: also train a LoRA adapter (rank 8, alpha 16, every attention and MLP projection) on the frozen model" };
        var steps = new Option<int>("--steps") { Description = "Transformers: training steps per measurement (after one untimed warm-up step)", DefaultValueFactory = _ => 20 };
        var samples = new Option<int>("--samples") { Description = "Training samples per measurement", DefaultValueFactory = _ => 6000 };
        var batch = new Option<int>("--batch-size") { Description = "B: minibatch size", DefaultValueFactory = _ => 10 };
        var workers = new Option<int>("--parallelism") { Description = "Clients trained at once (default: the core count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var data = new DataOptions();
        foreach (var o in new Option[] { models, samples, batch, workers, lora, steps, json })
        {
            command.Add(o);
        }
        data.AddTo(command);

        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            var kinds = new List<ModelKind>();
            var transformers = new List<(string Name, TransformerConfig Config)>();
            foreach (var name in parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (TransformerConfig.TryParse(name, out var config))
                {
                    transformers.Add((name.ToLowerInvariant(), config));
                    continue;
                }
                if (!ModelNames.TryParse(name, out var kind))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions,
                        [$"--models: '{name}' is not one of {string.Join(", ", ModelNames.All.Concat(TransformerConfig.PresetNames))}"]);
                }
                kinds.Add(kind);
            }
            var errors = new List<string>();
            if (parse.GetValue(steps) < 1)
            {
                errors.Add($"--steps must be >= 1, got {parse.GetValue(steps)}");
            }
            if (parse.GetValue(samples) < 1)
            {
                errors.Add($"--samples must be >= 1, got {parse.GetValue(samples)}");
            }
            if (parse.GetValue(batch) < 1)
            {
                errors.Add($"--batch-size must be >= 1, got {parse.GetValue(batch)}");
            }
            if (parse.GetValue(workers) < 1 || parse.GetValue(workers) > parse.GetValue(samples))
            {
                errors.Add($"--parallelism must be between 1 and --samples, got {parse.GetValue(workers)}");
            }
            if (errors.Count > 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, errors);
            }

            var results = new List<TrainingThroughput>();
            if (kinds.Count > 0)
            {
                if (await data.LoadAsync(parse, ct) is not { } dataset)
                {
                    return ExitCodes.DataUnavailable;
                }
                foreach (var kind in kinds)
                {
                    await stderr.WriteLineAsync($"measuring {kind.ToName()}...");
                    results.Add(await TrainingBenchmark.MeasureAsync(dataset.Train, kind, parse.GetValue(samples), parse.GetValue(batch), parse.GetValue(workers), 42, ct));
                }
            }
            var language = new List<LanguageThroughput>();
            foreach (var (name, config) in transformers)
            {
                foreach (var adapter in parse.GetValue(lora) ? new LoraConfig?[] { null, LoraConfig.Default } : [null])
                {
                    await stderr.WriteLineAsync($"measuring {name}{(adapter is null ? "" : " with LoRA")}...");
                    var r = await Task.Run(() => LanguageBenchmark.Run(config, adapter, parse.GetValue(steps), parse.GetValue(batch), 42, ct), ct);
                    language.Add(new LanguageThroughput(name, adapter is null ? null : new LanguageLora(adapter.Rank, adapter.Alpha, adapter.Targets), r.Steps,
                        parse.GetValue(batch), config.Context, Math.Round(r.TokensPerSecond, 1), r.FullParameters, r.TrainableParameters, r.FullUploadBytes,
                        adapter is null ? null : r.AdapterUploadBytes));
                }
            }

            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(JsonOutput.Serialize(new { results, language }));
                return ExitCodes.Ok;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            if (language.Count > 0)
            {
                var lt = new Table().Border(TableBorder.Rounded).Title("Byte-level transformers: training throughput and what a trainer uploads");
                lt.AddColumns("model", "adapter", "tokens/s", "parameters", "trained", "upload");
                foreach (var l in language)
                {
                    lt.AddRow(l.Model, l.Lora is null ? "full" : $"LoRA r{l.Lora.Rank}", l.TokensPerSecond.ToString("#,0", CultureInfo.InvariantCulture),
                        l.Parameters.ToString("#,0", CultureInfo.InvariantCulture), l.TrainableParameters.ToString("#,0", CultureInfo.InvariantCulture),
                        (l.AdapterUploadBytes ?? l.FullUploadBytes).ToString("#,0", CultureInfo.InvariantCulture) + " B");
                }
                console.Write(lt);
                if (results.Count == 0)
                {
                    return ExitCodes.Ok;
                }
            }
            var table = new Table().Border(TableBorder.Rounded).Title("Local training throughput (samples/s)");
            foreach (var h in Headers)
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }
            foreach (var r in results)
            {
                table.AddRow(r.Model, r.BatchSize.ToString(CultureInfo.InvariantCulture), r.Samples.ToString(CultureInfo.InvariantCulture),
                    r.SingleWorkerSamplesPerSecond.ToString("#,0", CultureInfo.InvariantCulture), r.Workers.ToString(CultureInfo.InvariantCulture),
                    r.SamplesPerSecond.ToString("#,0", CultureInfo.InvariantCulture), r.Speedup.ToString("0.00x", CultureInfo.InvariantCulture),
                    r.NodeSamplesPerSecond.ToString("#,0", CultureInfo.InvariantCulture));
            }
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>A LoRA adapter as `bench train` reports it.</summary>
public sealed record LanguageLora(int Rank, double Alpha, IReadOnlyList<string> Targets);

/// <summary>One transformer measurement of `bench train`: training tokens per second and what a trainer uploads, the full model or its adapter.</summary>
public sealed record LanguageThroughput(string Model, LanguageLora? Lora, int Steps, int BatchSize, int Context, double TokensPerSecond, int Parameters,
    int TrainableParameters, long FullUploadBytes, long? AdapterUploadBytes);
