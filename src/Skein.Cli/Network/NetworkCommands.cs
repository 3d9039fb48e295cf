using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skein.Cli.Ledger;
using Skein.Coordinator;
using Skein.Coordinator.Api;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Learning;
using Skein.Node;

namespace Skein.Cli.Network;

/// <summary>`skein coordinator` and `skein node`: the two long-running processes of a network.</summary>
public static class NetworkCommands
{
    public static Command Coordinator()
    {
        var command = new Command("coordinator", "Run a coordinator: ledger, blob store, gRPC for nodes and a round engine per task (binds 127.0.0.1 unless told otherwise)");
        var key = KeyFileOption();
        var password = PasswordOption();
        var data = new Option<string>("--data-dir") { Description = "Folder for the ledger, blobs and index", Required = true, HelpName = "folder" };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "gRPC port for nodes (0: any free port; the chosen URL is printed)", DefaultValueFactory = _ => 0 };
        var apiPort = new Option<int>("--api-port") { Description = "JSON HTTP API port (0: any free port; the chosen URL is printed)", DefaultValueFactory = _ => 0 };
        var genesis = new Option<string?>("--genesis") { Description = "Genesis JSON to create the chain with (only the first time)", HelpName = "file" };
        var tasks = new Option<string[]>("--task") { Description = "Task spec to host (once: a restart does not create it again)", HelpName = "file" };
        var startWhen = new Option<string?>("--start-when-joined") { Description = "Start the rounds once TRAINERS:VALIDATORS have joined (default: at once)", HelpName = "t:v" };
        var exitWhenDone = new Option<bool>("--exit-when-done") { Description = "Exit once every hosted task has completed" };
        var training = new Option<double>("--training-seconds") { Description = "Training phase deadline", DefaultValueFactory = _ => 300 };
        var committing = new Option<double>("--commit-seconds") { Description = "Commit phase deadline", DefaultValueFactory = _ => 60 };
        var revealing = new Option<double>("--reveal-seconds") { Description = "Reveal phase deadline", DefaultValueFactory = _ => 60 };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "Serve HTTPS with this certificate (PFX); nodes pin its public part with --tls-pin", HelpName = "file" };
        var tlsPassword = new Option<string>("--tls-password-env") { Description = "Environment variable holding the PFX password", DefaultValueFactory = _ => "SKEIN_TLS_PASSWORD" };
        var maxUpdate = new Option<long>("--max-update-bytes") { Description = "Size limit of one update", DefaultValueFactory = _ => 256L << 20 };
        var console = new Option<bool>("--console") { Description = "Also serve Skein Console (read-only, but it can create tasks this coordinator hosts)" };
        var consolePort = new Option<int>("--console-port") { Description = "The console's port (0: any free port)", DefaultValueFactory = _ => ConsoleCommand.DefaultPort };
        var evalData = new Option<string?>("--eval-data") { Description = "A public test set (eval-images-idx3-ubyte, eval-labels-idx1-ubyte) to test each new global model on, for the accuracy curves", HelpName = "folder" };
        var registry = new Option<string?>("--model-registry") { Description = "Model registry that fine-tuning tasks take their base model from (default: the registry of skein model, models/ in the per-user data folder)", HelpName = "folder" };
        var maxConnections = new Option<long>("--max-connections") { Description = "Open connections the coordinator holds at once, all clients together", DefaultValueFactory = _ => Skein.Market.Serving.ServerLimits.Default.MaxConnections };
        var rate = new Option<int>("--requests-per-second") { Description = "Requests a second one client (IP address) may make on average, beyond loopback (0: no rate limit)", DefaultValueFactory = _ => Skein.Market.Serving.ServerLimits.Default.RequestsPerSecond };
        var burst = new Option<int>("--burst") { Description = "Requests one client may make at once above that average", DefaultValueFactory = _ => Skein.Market.Serving.ServerLimits.Default.Burst };
        var takeOver = new Option<ulong?>("--take-over") { Description = "Take over this task, which its creator handed to this coordinator's key (skein task handover): mirror its blobs from --peer and resume it where the ledger is", HelpName = "task" };
        var takeOverSpec = new Option<string?>("--take-over-spec") { Description = "With --take-over: the task's spec (JSON), checked against the hash on the ledger", HelpName = "file" };
        var peers = new Option<string[]>("--peer") { Description = "Where to fetch blobs this coordinator lacks: another coordinator's (or a mirror's) API URL, or a folder of published blobs such as a blob store (repeatable, tried in order)", HelpName = "url|folder" };
        var ledgerFile = new Option<string?>("--ledger-file") { Description = "The embedded chain's file (default: <data-dir>/ledger.db); a coordinator taking a task over on the same machine opens its predecessor's", HelpName = "file" };
        var chain = new EvmChainCliOptions();
        foreach (var o in new Option[] { key, password, data, host, port, apiPort, genesis, tasks, startWhen, exitWhenDone, training, committing, revealing, maxUpdate, tlsCert, tlsPassword, evalData, registry, console, consolePort, maxConnections, rate, burst, takeOver, takeOverSpec, peers, ledgerFile })
        {
            command.Add(o);
        }
        chain.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            // A long-running daemon: malloc set to hand memory back (simulations, which train many clients at once in
            // one process, keep glibc's defaults).
            NativeHeap.Configure();
            using var loggers = CliLogging.Create();
            var logger = loggers.CreateLogger("skein.coordinator");
            var evm = chain.Parse(parse);
            using var ledgerKey = Unlock(parse.GetValue(key)!, parse.GetValue(password)!);
            Genesis? g = parse.GetValue(genesis) is { } gf ? await ReadGenesisAsync(gf, ct) : null;
            var options = new CoordinatorOptions
            {
                DataDirectory = parse.GetValue(data)!,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiPort = parse.GetValue(apiPort),
                CertificatePath = parse.GetValue(tlsCert) is { } certFile
                    ? File.Exists(certFile) ? certFile : throw new ArgumentException($"--tls-cert: '{certFile}' does not exist")
                    : null,
                CertificatePassword = Environment.GetEnvironmentVariable(parse.GetValue(tlsPassword)!),
                MaxUpdateBytes = parse.GetValue(maxUpdate),
                EvaluationData = parse.GetValue(evalData) is { } ev
                    ? Directory.Exists(ev) ? ev : throw new ArgumentException($"--eval-data: folder '{ev}' does not exist")
                    : null,
                Timings = new RoundTimings(TimeSpan.FromSeconds(parse.GetValue(training)), TimeSpan.FromSeconds(parse.GetValue(committing)), TimeSpan.FromSeconds(parse.GetValue(revealing))),
                Evm = evm,
                LedgerFile = parse.GetValue(ledgerFile) is { } lf
                    ? evm is null ? lf : throw new ArgumentException("--ledger-file: names an embedded chain; with --ledger evm the ledger is the contract")
                    : null,
                Peers = [.. (parse.GetValue(peers) ?? []).Select(p => Uri.TryCreate(p, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
                    : Directory.Exists(p) ? new Uri(Path.GetFullPath(p)) : throw new ArgumentException($"--peer: must be an http(s) URL or a folder of blobs, got '{p}'"))],
                ModelRegistry = parse.GetValue(registry) ?? Skein.Learning.Registry.ModelRegistry.DefaultDirectory(Skein.Learning.Data.MnistStore.DefaultDataDirectory()),
                Limits = Skein.Market.Serving.ServerLimits.Default with { MaxConnections = parse.GetValue(maxConnections), RequestsPerSecond = parse.GetValue(rate), Burst = parse.GetValue(burst) },
            };
            if (options.Limits.Validate() is { } badLimit)
            {
                throw new ArgumentException("--" + badLimit.Replace('_', '-'));
            }
            if (BindWarning.For(options.Host, options.CertificatePath is not null, parse.GetValue(console)) is { } warning)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(warning);
            }
            await using var coordinator = await CoordinatorHost.StartAsync(options, ledgerKey, g, loggers, ct);
            var hostedSpecs = coordinator.Context.Index.Tasks().Select(t => TaskSpec.Parse(t.SpecJson).Sha256()).ToHashSet();
            var fresh = new List<ulong>();
            var seed = 1UL;
            foreach (var file in parse.GetValue(tasks) ?? [])
            {
                var json = await File.ReadAllTextAsync(file, ct);
                if (hostedSpecs.Add(TaskSpec.Parse(json, file).Sha256()))
                {
                    fresh.Add(await coordinator.HostTaskAsync(json, seed++, ct));
                }
            }
            if (parse.GetValue(takeOver) is { } adopt)
            {
                var specFile = parse.GetValue(takeOverSpec) ?? throw new ArgumentException("--take-over-spec: required with --take-over (the task's spec file)");
                if (!File.Exists(specFile))
                {
                    throw new ArgumentException($"--take-over-spec: file '{specFile}' does not exist");
                }
                if (coordinator.Context.Index.Task(adopt) is null)
                {
                    var report = await coordinator.AdoptTaskAsync(adopt, await File.ReadAllTextAsync(specFile, ct), ct);
                    foreach (var lost in report.Missing)
                    {
                        logger.LogWarning("task {Task}: blob {Hash} is at no peer; a round that accepted it cannot be settled", adopt, lost);
                    }
                }
            }
            // Machine-readable, for scripts and tests: the one line on stdout.
            await parse.InvocationConfiguration.Output.WriteLineAsync($"listening {coordinator.Uri}");
            await parse.InvocationConfiguration.Output.WriteLineAsync($"api {coordinator.ApiUri}");
            await using var site = parse.GetValue(console)
                ? await Skein.Console.Hosting.ConsoleHost.StartAsync(new Skein.Console.ConsoleOptions
                {
                    Coordinator = coordinator.ApiUri,
                    Host = options.Host,
                    Port = parse.GetValue(consolePort),
                    HostTask = (json, token) => HostFromConsoleAsync(coordinator, json, token),
                }, null, loggers, ct)
                : null;
            if (site is not null)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync($"console {site.Uri}");
            }
            await parse.InvocationConfiguration.Output.FlushAsync(ct);

            if (parse.GetValue(startWhen) is { } when)
            {
                var parts = when.Split(':');
                if (parts.Length != 2 || !int.TryParse(parts[0], out var needT) || !int.TryParse(parts[1], out var needV))
                {
                    throw new ArgumentException($"--start-when-joined: expected trainers:validators, got '{when}'");
                }
                foreach (var id in fresh)
                {
                    for (var i = 0; ; i++)
                    {
                        var t = await coordinator.Context.Ledger.GetTaskAsync(id, ct);
                        if (t!.Trainers.Count >= needT && t.Validators.Count >= needV)
                        {
                            break;
                        }
                        await Task.Delay(100, ct);
                    }
                }
            }
            foreach (var id in fresh)
            {
                coordinator.StartEngine(id);
            }
            if (parse.GetValue(exitWhenDone))
            {
                await Task.WhenAll(coordinator.Engines).WaitAsync(ct);
                return ExitCodes.Ok;
            }
            await Task.Delay(Timeout.Infinite, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Hosts a task created in the console and starts its rounds once as many nodes have joined as a round picks, so
    /// that round 1 does not open to an empty network.
    /// </summary>
    private static async Task<ulong> HostFromConsoleAsync(CoordinatorHost coordinator, string json, CancellationToken ct)
    {
        var spec = TaskSpec.Parse(json, "task");
        // The initial model's seed comes from the spec, so anyone can rebuild round 1's starting point from it.
        var seed = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Convert.FromHexString(spec.Sha256()));
        var id = await coordinator.HostTaskAsync(json, seed, ct);
        _ = Task.Run(async () =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(coordinator.Stopping);
            while (!stop.IsCancellationRequested)
            {
                var t = await coordinator.Context.Ledger.GetTaskAsync(id, stop.Token);
                if (t is not null && t.Trainers.Count >= spec.TrainersPerRound && t.Validators.Count >= spec.ValidatorsPerRound)
                {
                    coordinator.StartEngine(id);
                    return;
                }
                await Task.Delay(500, stop.Token);
            }
        }, CancellationToken.None);
        return id;
    }

    public static Command Node()
    {
        var command = new Command("node", "Run a node: sign in to a coordinator, stake and join its tasks, train and validate when picked");
        var key = KeyFileOption();
        var password = PasswordOption();
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's URL", Required = true, HelpName = "url" };
        var data = new Option<string>("--data") { Description = "Private data folder (train-*-ubyte to train, heldout-*-ubyte to validate)", Required = true, HelpName = "folder" };
        var state = new Option<string?>("--state") { Description = "Where the node keeps its commitments (default: <data>/state)", HelpName = "folder" };
        var trainerStake = new Option<string>("--trainer-stake") { Description = "Tokens to stake as trainer", DefaultValueFactory = _ => "10" };
        var validatorStake = new Option<string>("--validator-stake") { Description = "Tokens to stake as validator", DefaultValueFactory = _ => "10" };
        var tlsPin = new Option<string?>("--tls-pin") { Description = "With an https coordinator: its certificate (PEM or DER) to trust", HelpName = "file" };
        var behaviour = new Option<string>("--behaviour") { Description = "honest, sign-flip, never-reveal, stall-upload or copy (a tournament copier) (for demos and fault drills)", DefaultValueFactory = _ => "honest" };
        var tries = new Option<string[]>("--try") { Description = "Tournament tasks: one submission per window with these settings, as steps:lr (repeatable, up to the task's submissions_per_trainer; default: the task's training)", HelpName = "steps:lr" };
        var onlyTasks = new Option<ulong[]>("--task") { Description = "Join only this task (repeatable; default: every task of the coordinator)" };
        foreach (var o in new Option[] { key, password, coordinator, data, state, trainerStake, validatorStake, behaviour, tries, tlsPin, onlyTasks })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            NativeHeap.Configure();
            using var loggers = CliLogging.Create();
            using var nodeKey = Unlock(parse.GetValue(key)!, parse.GetValue(password)!);
            var b = parse.GetValue(behaviour) switch
            {
                "honest" => NodeBehaviour.Honest,
                "sign-flip" => NodeBehaviour.SignFlip,
                "never-reveal" => NodeBehaviour.NeverReveal,
                "stall-upload" => NodeBehaviour.StallUpload,
                "copy" => NodeBehaviour.Copy,
                var other => throw new ArgumentException($"--behaviour: must be honest, sign-flip, never-reveal, stall-upload or copy; got '{other}'"),
            };
            var folder = parse.GetValue(data)!;
            var options = new NodeOptions
            {
                Coordinator = new Uri(parse.GetValue(coordinator)!),
                DataDirectory = folder,
                StateDirectory = parse.GetValue(state) ?? Path.Combine(folder, "state"),
                TrainerStake = Tokens.Parse(parse.GetValue(trainerStake)!, "--trainer-stake"),
                ValidatorStake = Tokens.Parse(parse.GetValue(validatorStake)!, "--validator-stake"),
                Behaviour = b,
                TlsPin = parse.GetValue(tlsPin),
                Tasks = parse.GetValue(onlyTasks) is { Length: > 0 } ids ? ids.ToHashSet() : null,
                Tries = (parse.GetValue(tries) ?? []).Select(ParseTry).ToArray(),
            };
            await new NodeDaemon(options, nodeKey, loggers.CreateLogger("skein.node")).RunAsync(ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>One <c>--try steps:lr</c>, e.g. <c>200:0.005</c>.</summary>
    internal static TournamentTry ParseTry(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2
            && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var steps) && steps is >= 1 and <= 100_000
            && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var lr) && lr > 0 && lr < 1
            ? new TournamentTry(steps, lr)
            : throw new ArgumentException($"--try: must be steps:lr with steps in [1, 100000] and lr in (0, 1), e.g. 200:0.005; got '{text}'");
    }

    public static Command Verify()
    {
        var command = new Command("verify", "Recompute a task's rounds from the published models and updates and check each aggregate against the hash on the ledger");
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's JSON API URL (the 'api' line it prints)", Required = true, HelpName = "url" };
        var task = new Option<ulong>("--task") { Description = "Task id", Required = true };
        var round = new Option<uint?>("--round") { Description = "Round to verify (default: every settled round)" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var verifyPin = new Option<string?>("--tls-pin") { Description = "With an https coordinator: its certificate (PEM or DER) to trust", HelpName = "file" };
        var rpc = new Option<string?>("--rpc") { Description = "Read the ledger's facts from this EVM node (a node you trust) instead of the coordinator's API; blobs still come from the coordinator, checked against the chain's hashes", HelpName = "url" };
        var contract = new Option<string?>("--contract") { Description = "With --rpc: the SkeinLedger contract (default: the one the coordinator names, which --rpc then reads)", HelpName = "address" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the task has completed (every round settled), showing progress on stderr, then verify every round" };
        var timeout = new Option<double>("--timeout") { Description = "With --wait: give up after this many seconds", DefaultValueFactory = _ => 3600 };
        foreach (var o in new Option[] { coordinator, task, round, json, verifyPin, rpc, contract, wait, timeout })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            if (!Uri.TryCreate(parse.GetValue(coordinator), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--coordinator: must be an http(s) URL, got '{parse.GetValue(coordinator)}'");
            }
            using var api = new CoordinatorApiClient(uri, parse.GetValue(verifyPin) is { } pin ? CertificatePin.Load(pin) : null);
            var id = parse.GetValue(task);
            await using var chain = await OpenChainAsync(parse, rpc, contract, api, ct);
            if (parse.GetValue(wait))
            {
                await WaitForCompletionAsync(api, id, parse.GetValue(timeout), parse.InvocationConfiguration.Error, ct);
            }
            uint settled;
            var tournament = false;
            try
            {
                var hosted = chain is null ? await api.GetTaskAsync(id, ct) : null;
                tournament = hosted?.Tournament is not null;
                settled = chain is null
                    ? hosted!.SettledRounds
                    : (await chain.GetTaskAsync(id, ct) ?? throw new ArgumentException($"--task: task {id} is not on the chain's ledger {chain.ContractAddress}")).SettledRounds;
            }
            catch (HttpRequestException ex)
            {
                throw new ArgumentException($"--task: {ex.Message}", ex);
            }
            uint[] rounds = parse.GetValue(round) is { } r ? [r] : Enumerable.Range(1, (int)settled).Select(i => (uint)i).ToArray();
            var results = new List<RoundVerification>();
            foreach (var n in rounds)
            {
                var check = chain is null ? await RoundVerifier.VerifyAsync(api, id, n, ct) : await RoundVerifier.VerifyAsync(chain, api, id, n, ct);
                results.Add(check);
                await parse.InvocationConfiguration.Error.WriteLineAsync($"task {id} round {n}: {(check.Ok ? "ok" : "FAILED: " + check.Reason)} ({check.Accepted} {(tournament ? "ranked submissions" : "updates")}, {check.Computed})");
            }
            var ok = results.Count > 0 && results.All(c => c.Ok);
            if (parse.GetValue(json))
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(
                    new { task = id, verify = ok ? "ok" : "failed", source = chain is null ? "coordinator" : "chain", rpc = parse.GetValue(rpc), contract = chain?.ContractAddress, rounds = results },
                    ApiJson.Options));
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(ok
                    ? $"verify ok: {results.Count} round(s) of task {id} recomputed bit for bit"
                    : $"verify FAILED: {results.Count(c => !c.Ok)} of {results.Count} round(s) differ");
            }
            return ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        }));
        return command;
    }

    /// <summary>
    /// Polls the coordinator until the task has completed. A coordinator that does not answer yet (still starting,
    /// restarting) is waited for too; only the timeout ends the wait.
    /// </summary>
    private static async Task WaitForCompletionAsync(CoordinatorApiClient api, ulong id, double timeoutSeconds, TextWriter progress, CancellationToken ct)
    {
        if (!(timeoutSeconds > 0))
        {
            throw new ArgumentException($"--timeout: must be a number of seconds > 0, got {timeoutSeconds}");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = -1L;
        string? lastError = null;
        while (true)
        {
            try
            {
                var t = await api.GetTaskAsync(id, ct);
                lastError = null;
                if (t.SettledRounds != seen)
                {
                    seen = t.SettledRounds;
                    // The coordinator's test of the newest model, where it has a public test set (--eval-data).
                    var tested = t.SettledRounds == 0 ? null : (await api.GetRoundSummariesAsync(id, ct)).Where(r => r.Accuracy is not null).MaxBy(r => r.Round);
                    await progress.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"task {id}: {t.SettledRounds}/{t.Rounds} rounds settled{(tested is null ? "" : $", test accuracy {tested.Accuracy:0.0000} after round {tested.Round}")} ({clock.Elapsed.TotalSeconds:0} s)"));
                }
                if (t.Completed || t.SettledRounds >= t.Rounds)
                {
                    await FinalAccuracyAsync(api, id, t.Rounds, progress, ct);
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                lastError = ex.Message;
            }
            if (clock.Elapsed.TotalSeconds > timeoutSeconds)
            {
                throw new ArgumentException($"--wait: task {id} did not complete in {timeoutSeconds:0} s ({Math.Max(seen, 0)} rounds settled{(lastError is null ? "" : "; last error: " + lastError)})");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>
    /// The coordinator tests each new model just after its round settles: where it tests at all (--eval-data), wait a
    /// little for the last one, so that the final figure is the final model's.
    /// </summary>
    private static async Task FinalAccuracyAsync(CoordinatorApiClient api, ulong id, uint rounds, TextWriter progress, CancellationToken ct)
    {
        for (var i = 0; i < 60; i++)
        {
            var tested = (await api.GetRoundSummariesAsync(id, ct)).Where(r => r.Accuracy is not null).MaxBy(r => r.Round);
            if (tested is null && i >= 10)
            {
                return; // no test set: the coordinator tests nothing
            }
            if (tested is not null && (tested.Round >= rounds || i == 59))
            {
                await progress.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"task {id}: completed; test accuracy {tested.Accuracy:0.0000} after round {tested.Round}"));
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>With --rpc, the chain's ledger read through that node (no key: it only reads); null without.</summary>
    private static async Task<Skein.Ledger.Evm.EvmLedger?> OpenChainAsync(ParseResult parse, Option<string?> rpc, Option<string?> contract, CoordinatorApiClient api, CancellationToken ct)
    {
        if (parse.GetValue(rpc) is not { } rpcText)
        {
            return parse.GetValue(contract) is null ? null : throw new ArgumentException("--contract: only with --rpc");
        }
        if (!Uri.TryCreate(rpcText, UriKind.Absolute, out var rpcUri) || rpcUri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--rpc: must be an http(s) URL, got '{rpcText}'");
        }
        var address = parse.GetValue(contract);
        if (address is null)
        {
            var status = await api.GetStatusAsync(ct);
            address = status.Ledger is { Backend: "evm", Contract: { } named } ? named
                : throw new ArgumentException($"--contract: the coordinator's ledger is {status.Ledger?.Backend ?? "embedded"}, not on an EVM chain; name the contract to read");
            await parse.InvocationConfiguration.Error.WriteLineAsync($"reading SkeinLedger {address} (as the coordinator names it) through {rpcUri}; pass --contract to pin an address you trust");
        }
        try
        {
            return await Skein.Ledger.Evm.EvmLedger.ReadAsync(rpcUri, address, cancellationToken: ct);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException("--" + ex.Message, ex);
        }
    }

    private static Option<string> KeyFileOption() => new("--key-file") { Description = "The key (Web3 Secret Storage v3 file)", Required = true, HelpName = "file" };

    private static Option<string> PasswordOption() => new("--password-env") { Description = "Environment variable holding the key's password", DefaultValueFactory = _ => "SKEIN_KEY_PASSWORD" };

    private static LedgerKey Unlock(string file, string passwordVariable)
    {
        if (!File.Exists(file))
        {
            throw new ArgumentException($"--key-file: '{file}' does not exist");
        }
        var password = Environment.GetEnvironmentVariable(passwordVariable)
            ?? throw new ArgumentException($"--password-env: set {passwordVariable} to the key's password");
        return KeyFile.Decrypt(File.ReadAllText(file), password, Path.GetFileNameWithoutExtension(file));
    }

    /// <summary>A genesis file, or an <see cref="ArgumentException"/> naming the file and the field at fault.</summary>
    private static async Task<Genesis> ReadGenesisAsync(string file, CancellationToken ct)
    {
        if (!File.Exists(file))
        {
            throw new ArgumentException($"--genesis: '{file}' does not exist");
        }
        try
        {
            return GenesisJson.Deserialize(await File.ReadAllTextAsync(file, ct));
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ArgumentException($"--genesis: {file}: {ex.Message}", ex);
        }
    }
}
