using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skein.Coordinator.Api;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Training;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Evm;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Network;

/// <summary>What the networked demo runs: how many nodes of each kind, how many rounds, and the task's training settings.</summary>
public sealed record NetworkDemoOptions
{
    public int Trainers { get; init; } = 10;

    public int Validators { get; init; } = 3;

    public uint Rounds { get; init; } = 120;

    /// <summary>Held-out examples each validator keeps (taken from the training set, never trained on).</summary>
    public int HeldOutPerValidator { get; init; } = 1000;

    public double TargetAccuracy { get; init; } = 0.97;

    public ulong Seed { get; init; } = 42;

    /// <summary>Where the network's folders go; null: a fresh temporary folder, deleted at the end unless <see cref="Keep"/>.</summary>
    public string? WorkDirectory { get; init; }

    public bool Keep { get; init; }

    /// <summary>Rent the nodes from local providers through the market (the default), or start them directly.</summary>
    public bool RentThroughMarket { get; init; } = true;

    /// <summary>"embedded" (the coordinator's own chain) or "evm" (Skein's contracts on a local Anvil chain).</summary>
    public string Ledger { get; init; } = "embedded";

    /// <summary>A fine-tuning task instead of MNIST (<c>skein demo text</c>): its spec, registry and node folders.</summary>
    public TextDemoSetup? Text { get; init; }

    /// <summary>
    /// Above 0: MNIST-shaped synthetic images instead of MNIST, this many per trainer (for tests and smoke runs, which
    /// must not download anything); validators and the coordinator's test set get their own.
    /// </summary>
    public int SyntheticExamples { get; init; }

    /// <summary>The coordinator's gRPC and API ports (0: any free port). Fixed ports let a killed coordinator come back where its nodes look for it.</summary>
    public int CoordinatorPort { get; init; }

    public int ApiPort { get; init; }

    /// <summary>Where the nodes dial instead of the coordinator's own gRPC address (a fault-injecting proxy in front of it).</summary>
    public Uri? NodesDial { get; init; }

    /// <summary>A task spec in place of <see cref="TaskJson"/> (<c>skein bench memory</c>'s CNN run).</summary>
    public string? TaskJsonOverride { get; init; }

    /// <summary>Extra environment of each process, by its name ("coordinator", "trainer-01"): a memory report file.</summary>
    public Func<string, IReadOnlyDictionary<string, string>>? ProcessEnvironment { get; init; }

    /// <summary>Each trainer's node arguments in place of its behaviour (a tournament's tries, its copier); null: honest, the last one sign-flipped.</summary>
    public Func<string, IReadOnlyList<string>>? TrainerArgs { get; init; }

    /// <summary>Phase deadlines of every round (training, commits, reveals).</summary>
    public (double Training, double Commit, double Reveal) DeadlineSeconds { get; init; } = (120, 60, 60);

    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        if (Ledger is not ("embedded" or "evm"))
        {
            e.Add($"--ledger must be embedded or evm, got '{Ledger}'");
        }
        if (Trainers is < 3 or > 50)
        {
            e.Add($"--trainers must be between 3 and 50, got {Trainers}");
        }
        if (Validators is < 1 or > 10)
        {
            e.Add($"--validators must be between 1 and 10, got {Validators}");
        }
        if (Rounds is < 1 or > 10_000)
        {
            e.Add($"--rounds must be between 1 and 10000, got {Rounds}");
        }
        if (!(TargetAccuracy is > 0 and <= 1))
        {
            e.Add(string.Create(CultureInfo.InvariantCulture, $"--target must be in (0, 1], got {TargetAccuracy}"));
        }
        return e;
    }

    /// <summary>
    /// The task: the 2NN on pathological shards (two label-sorted shards per honest trainer), FedAvgM with a
    /// decaying client rate so that drift between two-label clients settles, and the cohort score rule so that
    /// validators judge each update against its round rather than by its lone accuracy. docs/network.md has the runs
    /// behind the choice.
    /// </summary>
    public string TaskJson() => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "name": "mnist-2nn-pathological-shards",
          "model": "2nn",
          "data": { "dataset": "mnist", "partition": "shards" },
          "strategy": { "name": "fedavgm", "params": { "momentum": 0.9 } },
          "training": { "epochs": 1, "batch_size": 50, "lr": 0.1, "lr_decay": 0.98 },
          "validation": { "score": "cohort" },
          "rounds": {{Rounds}},
          "trainers_per_round": {{Trainers}},
          "validators_per_round": {{Validators}},
          "reward_pool": "{{Rounds * 10}}",
          "min_stake": "10",
          "reject_below": 0.5
        }
        """);
}

/// <summary>
/// What <c>skein demo text</c> hands the networked demo: the task's spec, the model registry the coordinator takes
/// the base from, and a writer of the nodes' text folders (work folder, trainers, validators) that returns the
/// coordinator's public held-out folder.
/// </summary>
public sealed record TextDemoSetup(string TaskJson, string ModelRegistry, Func<string, string[], string[], string> WriteData);

/// <summary>One settled round as the demo saw it: the new model's test accuracy and what the ledger decided.</summary>
public sealed record NetworkRoundReport(int Round, double Accuracy, double Loss, double Seconds, int Accepted, int Rejected, int Revealed, string ModelSha256);

/// <summary>A participant in the demo's leaderboard.</summary>
public sealed record DemoLeaderboardEntry(string Name, string Address, string Role, bool Malicious, int Accepted, int Rejected, int Revealed, int Missed, string Rewards, string Slashed);

/// <summary>
/// <c>skein demo</c>: a whole network on loopback, one process per party: a coordinator, trainers holding
/// pathological MNIST shards (one of them sending sign-flipped updates) and validators holding held-out data.
/// It follows the rounds over the coordinator's JSON API, tests every new global model on the MNIST test set,
/// recomputes every round as an outsider would (<c>skein verify</c>), and reads the leaderboard off the ledger.
/// </summary>
public sealed partial class NetworkDemo(NetworkDemoOptions options, MnistFiles? mnist, TextWriter log) : IAsyncDisposable
{
    private const string PasswordVariable = "SKEIN_KEY_PASSWORD";
    private readonly List<Process> _processes = [];
    private readonly Dictionary<string, (string[] Args, Process Process)> _named = [];
    private readonly string _password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    private string _work = "";
    private bool _ownsWork;
    private CoordinatorApiClient? _api;
    private AnvilNode? _anvil;
    private EvmLedger? _chain;

    public string WorkDirectory => _work;

    public Uri? ApiUri { get; private set; }

    /// <summary>The coordinator's JSON API, once started.</summary>
    public CoordinatorApiClient Api => _api ?? throw new InvalidOperationException("start the network first");

    /// <summary>Called once the coordinator answers, before the nodes are rented: the demo starts its console here.</summary>
    public Func<Uri, CancellationToken, Task>? CoordinatorStarted { get; set; }

    /// <summary>Names by address: "trainer-03", "validator-1", "coordinator".</summary>
    public Dictionary<string, string> Names { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string MaliciousName => $"trainer-{options.Trainers:00}";

    /// <summary>Writes keys, data and the task, and starts the coordinator and every node.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ownsWork = options.WorkDirectory is null;
        _work = options.WorkDirectory ?? Directory.CreateTempSubdirectory("skein-demo-").FullName;
        Directory.CreateDirectory(_work);
        Directory.CreateDirectory(Path.Combine(_work, "logs"));
        log.WriteLine($"network folder: {_work}");

        var trainers = Enumerable.Range(1, options.Trainers).Select(i => $"trainer-{i:00}").ToArray();
        var validators = Enumerable.Range(1, options.Validators).Select(i => $"validator-{i}").ToArray();
        string[] everyone = ["coordinator", .. trainers, .. validators, .. (options.RentThroughMarket ? [.. DemoProviders.Select(p => p.Name), "auditor"] : Array.Empty<string>())];
        foreach (var name in everyone)
        {
            using var key = KeyOf(name);
            Names[key.Address.ToString()] = name;
            var file = Path.Combine(_work, "keys", name + ".json");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, Skein.Ledger.Crypto.KeyFile.Encrypt(key, _password, KdfStrength.Light), cancellationToken);
        }
        var allocations = everyone.Select(n => { using var k = KeyOf(n); return new GenesisAllocation(k.Address, Tokens.Whole(n == "coordinator" ? 1_000_000UL : 1_000UL)); }).ToArray();
        var genesisFile = Path.Combine(_work, "genesis.json");
        // Leases pay per market block: one a second here, so that the demo's few minutes show payments.
        var parameters = LedgerParams.Default with { Market = MarketParams.Default with { BlockIntervalMs = 1_000, MinDeposit = Tokens.One / 10, BidDeposit = Tokens.One / 100 } };
        await File.WriteAllTextAsync(genesisFile, GenesisJson.Serialize(new Genesis(4242, parameters, allocations, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())), cancellationToken);
        var taskFile = Path.Combine(_work, "task.json");
        await File.WriteAllTextAsync(taskFile, options.Text?.TaskJson ?? options.TaskJsonOverride ?? options.TaskJson(), cancellationToken);

        string evalFolder;
        string[] registryArgs = [];
        if (options.Text is { } text)
        {
            // The coordinator scores each new adapter on public held-out text, and takes the base from the registry.
            evalFolder = text.WriteData(_work, trainers, validators);
            registryArgs = ["--model-registry", text.ModelRegistry];
        }
        else if (options.SyntheticExamples > 0)
        {
            evalFolder = WriteSyntheticData(trainers, validators);
        }
        else
        {
            var files = mnist ?? throw new InvalidOperationException("the MNIST demo needs the MNIST files");
            WriteData(files, trainers, validators);
            // The coordinator tests each new global model on MNIST's public test set: the curve of the demo and the console.
            evalFolder = Path.Combine(_work, "coordinator-eval");
            var testImages = IdxFile.Read(files.TestImages);
            var testLabels = IdxFile.Read(files.TestLabels);
            Write(evalFolder, "eval", testImages, testLabels, Enumerable.Range(0, testLabels.Count).ToArray());
        }

        string[] ledgerArgs = [];
        if (options.Ledger == "evm")
        {
            // The coordinator deploys the contracts from the genesis and relays everyone's signed transactions,
            // paying the gas from its own address.
            // A block every 6 s when nobody transacts, as on a public chain: market time, which leases are paid by, moves on.
            _anvil = await AnvilNode.StartAsync(4242, 0, null, 6, line => log.WriteLine(line), cancellationToken);
            using var coordinatorKey = KeyOf("coordinator");
            await _anvil.FundAsync(coordinatorKey.Address.ToString(), AnvilNode.ThousandEther, cancellationToken);
            ledgerArgs = ["--ledger", "evm", "--rpc", _anvil.Rpc.ToString(), "--chain-id", "4242"];
            log.WriteLine($"chain: Anvil {AnvilNode.Version} at {_anvil.Rpc} (chain 4242); the coordinator deploys Skein's contracts and relays");
        }
        var coordinator = Start("coordinator", ["coordinator", "--key-file", KeyFile("coordinator"), "--data-dir", Path.Combine(_work, "coordinator"),
            "--genesis", genesisFile, "--task", taskFile, "--start-when-joined", $"{options.Trainers}:{options.Validators}",
            "--training-seconds", Invariant(options.DeadlineSeconds.Training), "--commit-seconds", Invariant(options.DeadlineSeconds.Commit),
            "--reveal-seconds", Invariant(options.DeadlineSeconds.Reveal), "--port", Invariant(options.CoordinatorPort), "--api-port", Invariant(options.ApiPort),
            "--eval-data", evalFolder, .. registryArgs, .. ledgerArgs]);
        string? grpc = null;
        for (var i = 0; i < 10 && (grpc is null || ApiUri is null); i++)
        {
            var line = await coordinator.StandardOutput.ReadLineAsync(cancellationToken)
                ?? throw new InvalidOperationException($"the coordinator exited before listening; see {Path.Combine(_work, "logs", "coordinator.log")}");
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                grpc = line[10..];
            }
            else if (line.StartsWith("api ", StringComparison.Ordinal))
            {
                ApiUri = new Uri(line[4..]);
            }
        }
        _api = new CoordinatorApiClient(ApiUri ?? throw new InvalidOperationException("the coordinator printed no API address"));
        log.WriteLine($"coordinator: gRPC {grpc}, API {ApiUri}");
        if (_anvil is not null)
        {
            var status = await _api.GetStatusAsync(cancellationToken);
            // Verification reads the chain through its own connection, never the coordinator's word for what is on it:
            // not even for where the ledger is. The coordinator's first transaction on this fresh chain deployed it, so
            // its address follows from the coordinator's address and nonce 0.
            using var coordinatorKey = KeyOf("coordinator");
            var expected = Nethereum.Util.ContractUtils.CalculateContractAddress(coordinatorKey.Address.ToString(), 0);
            if (!string.Equals(status.Ledger?.Contract, expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"the coordinator names {status.Ledger?.Contract ?? "no contract"} as its ledger, not {expected}, the contract it deployed first");
            }
            _chain = await EvmLedger.ReadAsync(_anvil.Rpc, expected, cancellationToken: cancellationToken);
            Chain = new DemoChain(_chain.ChainId, $"anvil {AnvilNode.Version}", _anvil.Rpc.ToString(), _chain.ContractAddress, _chain.TasksAddress, _chain.MarketAddress, _chain.GovernanceAddress);
            log.WriteLine($"contracts: SkeinLedger {_chain.ContractAddress}, SkeinTasks {_chain.TasksAddress}, SkeinMarket {_chain.MarketAddress}, SkeinGovernance {_chain.GovernanceAddress}");
        }
        if (CoordinatorStarted is { } started)
        {
            await started(ApiUri, cancellationToken);
        }
        grpc = options.NodesDial?.ToString() ?? grpc;
        if (options.RentThroughMarket)
        {
            await StartProvidersAsync(cancellationToken);
            await RentNodesAsync(grpc!, trainers, validators, cancellationToken);
            return;
        }
        foreach (var t in trainers)
        {
            Start(t, ["node", "--key-file", KeyFile(t), "--coordinator", grpc!, "--data", Path.Combine(_work, t), "--trainer-stake", "50",
                .. options.TrainerArgs?.Invoke(t) ?? ["--behaviour", t == MaliciousName ? "sign-flip" : "honest"]]);
        }
        foreach (var v in validators)
        {
            Start(v, ["node", "--key-file", KeyFile(v), "--coordinator", grpc!, "--data", Path.Combine(_work, v), "--validator-stake", "100"]);
        }
        log.WriteLine(options.TrainerArgs is null
            ? $"started {trainers.Length} trainers ({MaliciousName} sends sign-flipped updates) and {validators.Length} validators"
            : $"started {trainers.Length} trainers and {validators.Length} validators");
    }

    /// <summary>
    /// Honest trainers get two label-sorted shards each of what the validators do not hold (McMahan et al.'s
    /// pathological split); the malicious trainer gets a random sample of the same size (its updates are lost anyway).
    /// </summary>
    private void WriteData(MnistFiles mnist, string[] trainers, string[] validators)
    {
        var images = IdxFile.Read(mnist.TrainImages);
        var labels = IdxFile.Read(mnist.TrainLabels);
        var order = Enumerable.Range(0, labels.Count).ToArray();
        DeterministicRandom.Derive(options.Seed, "demo/order").Shuffle(order.AsSpan());
        var heldOut = options.Validators * options.HeldOutPerValidator;
        for (var v = 0; v < validators.Length; v++)
        {
            Write(Path.Combine(_work, validators[v]), "heldout", images, labels, order.AsSpan(v * options.HeldOutPerValidator, options.HeldOutPerValidator).ToArray());
        }
        var pool = order[heldOut..];
        Array.Sort(pool);
        var poolLabels = pool.Select(i => labels.Data[i]).ToArray();
        var honest = trainers.Length - 1;
        var shards = DataPartitioner.Shards(poolLabels, honest, 2, options.Seed);
        for (var t = 0; t < honest; t++)
        {
            Write(Path.Combine(_work, trainers[t]), "train", images, labels, shards[t].Select(i => pool[i]).ToArray());
        }
        // The attacker holds data of its own: a random sample as large as an honest trainer's.
        var own = pool.ToArray();
        DeterministicRandom.Derive(options.Seed, "demo/attacker").Shuffle(own.AsSpan());
        Write(Path.Combine(_work, trainers[^1]), "train", images, labels, own[..shards[0].Length]);
    }

    /// <summary>Synthetic images for every node and the coordinator's test set, each from a seed of its own; returns the test set's folder.</summary>
    private string WriteSyntheticData(string[] trainers, string[] validators)
    {
        for (var t = 0; t < trainers.Length; t++)
        {
            SyntheticImages.WriteIdxFiles(Path.Combine(_work, trainers[t]), "train", options.SyntheticExamples, DeterministicRandom.Derive(options.Seed, "demo/synthetic/train", t).NextUInt64());
        }
        for (var v = 0; v < validators.Length; v++)
        {
            SyntheticImages.WriteIdxFiles(Path.Combine(_work, validators[v]), "heldout", options.SyntheticExamples, DeterministicRandom.Derive(options.Seed, "demo/synthetic/heldout", v).NextUInt64());
        }
        var eval = Path.Combine(_work, "coordinator-eval");
        SyntheticImages.WriteIdxFiles(eval, "eval", 1000, DeterministicRandom.Derive(options.Seed, "demo/synthetic/eval").NextUInt64());
        return eval;
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Write(string folder, string prefix, IdxArray images, IdxArray labels, int[] indices)
    {
        Directory.CreateDirectory(folder);
        var size = images.ItemSize;
        var pixels = new byte[indices.Length * size];
        var tags = new byte[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            images.Data.AsSpan(indices[i] * size, size).CopyTo(pixels.AsSpan(i * size));
            tags[i] = labels.Data[indices[i]];
        }
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), IdxFile.Encode([indices.Length, 28, 28], pixels));
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), IdxFile.Encode([indices.Length], tags));
    }

    /// <summary>Yields each round once it is settled and the coordinator has tested its model on the MNIST test set.</summary>
    public async IAsyncEnumerable<NetworkRoundReport> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var api = _api ?? throw new InvalidOperationException("start the network first");
        uint seen = 0;
        // Bounded: every round has deadlines (training 120 s, commits and reveals 60 s each), so a stuck network ends.
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(120 + (options.Rounds * 300.0));
        long previous = 0;
        while (seen < options.Rounds)
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"the network settled {seen} of {options.Rounds} rounds in {limit.TotalSeconds:0} s");
            }
            CheckCoordinatorAlive();
            var summaries = await api.GetRoundSummariesAsync(1, cancellationToken);
            foreach (var r in summaries.Where(r => r.Round > seen && r.Phase == "settled" && r.Accuracy is not null).OrderBy(r => r.Round))
            {
                if (r.Round != seen + 1)
                {
                    break;
                }
                seen = r.Round;
                var settled = r.PhaseTimes[3];
                var started = previous == 0 ? r.PhaseTimes[0] : previous;
                previous = settled;
                yield return new NetworkRoundReport((int)r.Round, Math.Round(r.Accuracy!.Value, 6), Math.Round(r.Loss ?? double.NaN, 6),
                    Math.Round((settled - started) / 1000.0, 3), r.Accepted, r.Rejected, r.Revealed, r.NewModelHash![2..]);
            }
            if (seen < options.Rounds)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>Recomputes every settled round from the published data; "ok" only if all match the ledger.</summary>
    public async Task<IReadOnlyList<RoundVerification>> VerifyAsync(CancellationToken cancellationToken)
    {
        var results = new List<RoundVerification>();
        for (uint r = 1; r <= options.Rounds; r++)
        {
            results.Add(await VerifyRoundAsync(r, cancellationToken));
        }
        return results;
    }

    /// <summary>Recomputes one settled round as an outsider would.</summary>
    public Task<RoundVerification> VerifyRoundAsync(uint round, CancellationToken cancellationToken) => _chain is null
        ? RoundVerifier.VerifyAsync(_api ?? throw new InvalidOperationException("start the network first"), 1, round, cancellationToken)
        : RoundVerifier.VerifyAsync(_chain, _api!, 1, round, cancellationToken);

    /// <summary>With --ledger evm: the chain and its contracts.</summary>
    public DemoChain? Chain { get; private set; }

    /// <summary>With --ledger evm: the gas of each settled round, from the chain's receipts; null on the embedded ledger.</summary>
    public async Task<DemoGas?> GasAsync(CancellationToken cancellationToken)
    {
        if (_chain is null)
        {
            return null;
        }
        var rounds = await _chain.GetRoundGasAsync(1, cancellationToken);
        if (rounds.Count == 0)
        {
            return null;
        }
        var gas = rounds.Select(r => r.Gas).Order().ToArray();
        // The upper median for an even count, as the consensus score takes it.
        return new DemoGas(gas[gas.Length / 2], gas[^1], gas[0], gas.Aggregate(0UL, (a, b) => a + b), rounds.Count, Math.Round(rounds.Average(r => r.Transactions), 2));
    }

    public async Task<IReadOnlyList<DemoLeaderboardEntry>> LeaderboardAsync(CancellationToken cancellationToken)
    {
        var api = _api ?? throw new InvalidOperationException("start the network first");
        var board = await api.GetLeaderboardAsync(1, cancellationToken);
        return board.Select(e =>
        {
            var name = Names.GetValueOrDefault(e.Address, e.Address);
            return new DemoLeaderboardEntry(name, e.Address, e.Role, name == MaliciousName && e.Role == "trainer", e.Accepted, e.Rejected, e.Revealed, e.Missed, e.Rewards, e.Slashed);
        }).ToArray();
    }

    private void CheckCoordinatorAlive()
    {
        if (_named.TryGetValue("coordinator", out var c) && c.Process.HasExited && !_down.Contains("coordinator"))
        {
            throw new InvalidOperationException($"the coordinator exited with code {c.Process.ExitCode}; see {Path.Combine(_work, "logs", "coordinator.log")}");
        }
    }

    /// <summary>The process id of each process by name, as last started.</summary>
    public IReadOnlyDictionary<string, int> ProcessIds
    {
        get
        {
            lock (_processes)
            {
                return _named.Where(n => !n.Value.Process.HasExited).ToDictionary(n => n.Key, n => n.Value.Process.Id);
            }
        }
    }

    /// <summary>Throwaway keys derived from the seed, so that a rerun shows the same addresses.</summary>
    internal LedgerKey KeyOf(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes($"skein-demo/{options.Seed}/{name}")));

    private string KeyFile(string name) => Path.Combine(_work, "keys", name + ".json");

    private Process Start(string name, string[] args)
    {
        var psi = SelfLaunch(args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.Environment[PasswordVariable] = _password;
        foreach (var (variable, value) in options.ProcessEnvironment?.Invoke(name) ?? new Dictionary<string, string>())
        {
            psi.Environment[variable] = value;
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        lock (_processes)
        {
            _processes.Add(p);
            _named[name] = (args, p);
        }
        var logFile = Path.Combine(_work, "logs", name + ".log");
        _ = Task.Run(async () =>
        {
            await using var writer = new StreamWriter(logFile, append: true);
            while (await p.StandardError.ReadLineAsync() is { } line)
            {
                // Stamped as read, so that one party's log lines up with another's.
                await writer.WriteLineAsync($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
            }
        });
        return p;
    }

    /// <summary>Starts this same program: through the dotnet host when that is what runs us, else the app host directly.</summary>
    public static ProcessStartInfo SelfLaunch(IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(NetworkDemo).Assembly.Location);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopMarketAsync();
        }
#pragma warning disable CA1031 // Whatever stopping the market ran into, the processes below must still be stopped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            log.WriteLine($"market: stopping failed: {ex.Message}");
        }
        _api?.Dispose();
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }
                await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                // already gone, or stuck: nothing more to do from here
            }
            p.Dispose();
        }
        if (_chain is not null)
        {
            await _chain.DisposeAsync();
        }
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
        if (_ownsWork && !options.Keep)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_work, recursive: true);
            }
            catch (IOException)
            {
                log.WriteLine($"could not delete {_work}");
            }
        }
    }

    /// <summary>The JSON summary of a networked demo run (--json, --summary); field names are a public contract.</summary>
    public static string SummaryJson(object summary) => JsonOutput.Serialize(summary);
}
