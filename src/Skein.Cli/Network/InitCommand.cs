using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Skein.Cli.Ledger;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Spectre.Console;

namespace Skein.Cli.Network;

/// <summary>
/// `skein init network DIR`: a network of one's own in one folder: encrypted keys, a genesis funding them, a task,
/// one data folder per node, scripts that start and stop it all, and a README with every command.
/// </summary>
public static class InitCommand
{
    /// <summary>The task specs <c>--task</c> may name instead of a file.</summary>
    public static IReadOnlyList<string> Examples { get; } = ["mnist-2nn", "mnist-cnn", "mnist-2nn-shards"];

    /// <summary>The coordinator's ports when none is given: its gRPC for nodes, and its JSON API one above.</summary>
    public const int DefaultPort = 7300;

    public static Command Build()
    {
        var init = new Command("init", "Scaffold something of your own");
        init.Add(Network());
        return init;
    }

    private static Command Network()
    {
        var command = new Command("network", "Write a network of your own into a folder: keys, genesis, task, node data, start/stop scripts and a README saying what to run");
        var dir = new Argument<string>("dir") { Description = "The folder to create (must be empty or new)" };
        var trainers = new Option<int>("--trainers") { Description = "Trainer nodes", DefaultValueFactory = _ => 3 };
        var validators = new Option<int>("--validators") { Description = "Validator nodes", DefaultValueFactory = _ => 1 };
        var task = new Option<string>("--task") { Description = $"A task spec file, or an example: {string.Join(", ", Examples)}", DefaultValueFactory = _ => "mnist-2nn", HelpName = "file|example" };
        var rounds = new Option<uint?>("--rounds") { Description = "Rounds of an example task (default 5)" };
        var data = new Option<string>("--data") { Description = "mnist, or a dataset folder (as skein data import writes): split among the nodes", DefaultValueFactory = _ => "mnist", HelpName = "mnist|folder" };
        var partition = new Option<string?>("--partition") { Description = "How the trainers' data is split: iid, shards or dirichlet (default: the task's data.partition)" };
        partition.AcceptOnlyFromAmong("iid", "shards", "dirichlet");
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data split", DefaultValueFactory = _ => 42UL };
        var port = new Option<int>("--port") { Description = "The coordinator's gRPC port for nodes (its JSON API listens one above)", DefaultValueFactory = _ => DefaultPort };
        var tls = new Option<bool>("--tls") { Description = "TLS from the first run: a self-signed coordinator certificate in tls/ (its PFX encrypted with the keys' password), pinned by every node and by verify" };
        var hosts = new Option<string[]>("--host") { Description = "With --tls: a name or IP address nodes reach the coordinator by (repeatable; localhost and 127.0.0.1 are always in)", HelpName = "name|ip" };
        var password = new Option<string>("--password-env") { Description = "Environment variable holding the password of every key (else a prompt)", DefaultValueFactory = _ => "SKEIN_KEY_PASSWORD" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var dataOptions = new DataOptions();
        command.Add(dir);
        foreach (var o in new Option[] { trainers, validators, task, rounds, data, partition, seed, port, tls, hosts, password, json })
        {
            command.Add(o);
        }
        dataOptions.AddTo(command);
        command.SetAction((parse, ct) => DataNodeCommands.GuardAsync(parse, async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var loggers = CliLogging.Create();
            var root = Path.GetFullPath(parse.GetValue(dir)!);
            if (File.Exists(root))
            {
                throw new ArgumentException($"dir: '{root}' is a file; choose a new folder");
            }
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            {
                throw new ArgumentException($"dir: '{root}' is not empty; choose a new folder");
            }
            var t = parse.GetValue(trainers);
            var v = parse.GetValue(validators);
            if (t is < 1 or > 100)
            {
                throw new ArgumentException($"--trainers: between 1 and 100, got {t}");
            }
            if (v is < 1 or > 20)
            {
                throw new ArgumentException($"--validators: between 1 and 20, got {v}");
            }
            var p = parse.GetValue(port);
            if (p is < 0 or > 65534)
            {
                throw new ArgumentException($"--port: between 1 and 65534 (0: any free port at each start), got {p}");
            }
            var spec = await TaskJsonAsync(parse.GetValue(task)!, parse.GetValue(rounds), t, v, ct);
            var plan = new NodeSplitPlan
            {
                Partition = Enum.Parse<PartitionKind>(parse.GetValue(partition) ?? TaskSpec.Parse(spec).Data.Partition, ignoreCase: true),
                Trainers = t,
                Validators = v,
                Seed = parse.GetValue(seed),
            };
            var certificateHosts = parse.GetValue(hosts) is { Length: > 0 } named
                ? parse.GetValue(tls) ? TlsCommands.ParseHosts([.. TlsCommands.DefaultHosts, .. named]) : throw new ArgumentException("--host: only with --tls (the certificate's names)")
                : parse.GetValue(tls) ? TlsCommands.DefaultHosts : null;
            var passwordVariable = parse.GetValue(password)!;
            var secret = Password(passwordVariable);

            // Data first: it is what fails most often (a bad folder), and nothing else should be left behind then.
            Directory.CreateDirectory(root);
            try
            {
                var split = await DataNodeCommands.SplitAsync(parse, dataOptions, parse.GetValue(data)!, plan, Path.Combine(root, "data"), force: false, loggers.CreateLogger("skein"), ct, "--trainers");
                if (Examples.Contains(parse.GetValue(task)!))
                {
                    spec = await TaskJsonAsync(parse.GetValue(task)!, parse.GetValue(rounds), t, v, ct, split.Folders.Where(f => f.Role == "trainer").Min(f => f.Examples));
                }
                var network = await WriteNetworkAsync(root, spec, split, secret, passwordVariable, p, certificateHosts, ct);
                var result = new
                {
                    dir = root,
                    coordinator = network.Coordinator,
                    trainers = network.Trainers,
                    validators = network.Validators,
                    task = Path.Combine(root, "task.json"),
                    genesis = Path.Combine(root, "genesis.json"),
                    data = split.ToJson(),
                    start = Path.Combine(root, "start.sh"),
                    stop = Path.Combine(root, "stop.sh"),
                    readme = Path.Combine(root, "README.md"),
                    tls = certificateHosts is null ? null : new { pfx = Path.Combine(root, "tls", "coordinator.pfx"), pin = Path.Combine(root, "tls", "coordinator.pin.pem"), hosts = certificateHosts },
                    seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                };
                var stdout = parse.InvocationConfiguration.Output;
                if (parse.GetValue(json))
                {
                    await stdout.WriteLineAsync(JsonOutput.Serialize(result));
                    return ExitCodes.Ok;
                }
                var relative = Path.GetRelativePath(Environment.CurrentDirectory, root);
                await stdout.WriteLineAsync($"""
                    Wrote a network of {t} trainer(s) and {v} validator(s) to {relative} ({clock.Elapsed.TotalSeconds:0.0} s):
                      keys/        {t + v + 1} encrypted keys (the password is in ${passwordVariable}; nothing else can open them)
                      genesis.json the chain's first state: each key funded ({Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(root, "README.md"))} says how much)
                      task.json    {TaskSpec.Parse(spec).Name}: {TaskSpec.Parse(spec).Rounds} rounds
                      data/        one folder per node ({split.Folders.Sum(f => f.Examples)} examples, {plan.Partition.ToString().ToLowerInvariant()}){(split.Eval is null ? "" : "; data/eval is the coordinator's test set")}
                    Next:
                      {relative}/start.sh        start the coordinator and every node (logs in {relative}/logs)
                      ./skein verify --coordinator "$(cat {relative}/api-url)" --task 1 --wait{(certificateHosts is null ? "" : $" --tls-pin {relative}/tls/coordinator.pin.pem")}
                      {relative}/stop.sh         stop them all
                    """);
                return ExitCodes.Ok;
            }
            catch
            {
                // A half-written network is worse than none: the next try would find the folder not empty.
                Directory.Delete(root, recursive: true);
                throw;
            }
        }));
        return command;
    }

    private static string Password(string variable)
    {
        var fromEnv = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }
        if (System.Console.IsInputRedirected)
        {
            throw new ArgumentException($"--password-env: set {variable} to the password for the network's keys (no terminal to prompt on)");
        }
        var first = AnsiConsole.Prompt(new TextPrompt<string>("Password for the network's keys:").Secret());
        var again = AnsiConsole.Prompt(new TextPrompt<string>("Again:").Secret());
        return first == again ? first : throw new ArgumentException("password: the two entries differ");
    }

    /// <summary>The task spec: a file (checked as the coordinator will check it) or an example sized to the network.</summary>
    /// <remarks>
    /// An example trains each trainer on about 1,000 examples a round at least: one epoch of MNIST's shares, but a
    /// few hundred of one's own images need several epochs, in smaller batches, to learn anything in a few rounds.
    /// </remarks>
    private static async Task<string> TaskJsonAsync(string task, uint? rounds, int trainers, int validators, CancellationToken ct, int smallestTrainer = int.MaxValue)
    {
        if (Examples.Contains(task))
        {
            var r = rounds ?? 5;
            if (r is < 1 or > 10_000)
            {
                throw new ArgumentException($"--rounds: between 1 and 10000, got {r}");
            }
            var (model, partition, strategyJson, lr) = task switch
            {
                "mnist-cnn" => ("cnn", "iid", "{ \"name\": \"fedavg\" }", "0.05"),
                // The demo's recipe for label-sorted shards: momentum on the server settles the drift between clients.
                "mnist-2nn-shards" => ("2nn", "shards", "{ \"name\": \"fedavgm\", \"params\": { \"momentum\": 0.9 } }", "0.1"),
                _ => ("2nn", "iid", "{ \"name\": \"fedavg\" }", "0.1"),
            };
            var json = string.Create(CultureInfo.InvariantCulture, $$"""
                {
                  "name": "{{task}}",
                  "model": "{{model}}",
                  "data": { "dataset": "mnist", "partition": "{{partition}}" },
                  "strategy": {{strategyJson}},
                  "training": { "epochs": {{(smallestTrainer >= 1000 ? 1 : Math.Min(20, (999 + smallestTrainer) / Math.Max(1, smallestTrainer)))}}, "batch_size": {{(smallestTrainer >= 1000 ? 50 : 10)}}, "lr": {{lr}} },
                  "rounds": {{r}},
                  "trainers_per_round": {{trainers}},
                  "validators_per_round": {{validators}},
                  "reward_pool": "{{r * 10}}",
                  "min_stake": "10"
                }

                """);
            TaskSpec.Parse(json, task);
            return json;
        }
        if (!File.Exists(task))
        {
            throw new ArgumentException($"--task: '{task}' is neither a file nor an example ({string.Join(", ", Examples)})");
        }
        if (rounds is not null)
        {
            throw new ArgumentException("--rounds: only with an example task; set \"rounds\" in your task file");
        }
        var text = await File.ReadAllTextAsync(task, ct);
        var spec = TaskSpec.Parse(text, task);
        if (spec.TrainersPerRound > trainers || spec.ValidatorsPerRound > validators)
        {
            throw new ArgumentException($"--task: {task} picks {spec.TrainersPerRound} trainers and {spec.ValidatorsPerRound} validators a round, but the network has {trainers} and {validators} (--trainers, --validators)");
        }
        return text;
    }

    private sealed record WrittenNetwork(object Coordinator, object[] Trainers, object[] Validators);

    private static async Task<WrittenNetwork> WriteNetworkAsync(string root, string taskJson, NodeSplit split, string password, string passwordVariable, int port,
        IReadOnlyList<string>? certificateHosts, CancellationToken ct)
    {
        if (certificateHosts is not null)
        {
            // The keys' password also locks the certificate's private key: one secret for the whole network folder.
            using var certificate = TlsCommands.Create(certificateHosts, 825, DateTimeOffset.UtcNow);
            var folder = Path.Combine(root, "tls");
            Directory.CreateDirectory(folder);
            await TlsCommands.WritePrivateAsync(Path.Combine(folder, "coordinator.pfx"), certificate.ExportPkcs12(System.Security.Cryptography.X509Certificates.Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password), ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "coordinator.pin.pem"), certificate.ExportCertificatePem() + "\n", ct);
        }
        var tls = certificateHosts is not null;
        var spec = TaskSpec.Parse(taskJson);
        await File.WriteAllTextAsync(Path.Combine(root, "task.json"), taskJson, ct);
        var keys = Path.Combine(root, "keys");
        Directory.CreateDirectory(keys);
        var addresses = new Dictionary<string, Address>();
        var names = split.Folders.Select(f => f.Name).Prepend("coordinator").ToArray();
        foreach (var name in names)
        {
            using var key = LedgerKey.Generate();
            var file = Path.Combine(keys, name + ".json");
            await File.WriteAllTextAsync(file, KeyFile.Encrypt(key, password, KdfStrength.Standard), ct);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            addresses[name] = key.Address;
        }
        // The coordinator escrows the task's reward pool from its balance; each node stakes from its own.
        var coordinatorFunds = Tokens.Whole(1_000_000UL);
        var nodeFunds = Tokens.Whole(1_000UL);
        var chainId = (ulong)RandomNumberGenerator.GetInt32(1_000, int.MaxValue);
        var genesis = new Genesis(chainId, LedgerParams.Default,
            names.Select(n => new GenesisAllocation(addresses[n], n == "coordinator" ? coordinatorFunds : nodeFunds)).ToArray(),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await File.WriteAllTextAsync(Path.Combine(root, "genesis.json"), GenesisJson.Serialize(genesis), ct);

        var trainers = split.Folders.Where(f => f.Role == "trainer").ToArray();
        var validators = split.Folders.Where(f => f.Role == "validator").ToArray();
        await WriteScriptAsync(Path.Combine(root, "start.sh"), StartScript(split, spec, passwordVariable, port, tls), ct);
        await WriteScriptAsync(Path.Combine(root, "stop.sh"), StopScript, ct);
        await File.WriteAllTextAsync(Path.Combine(root, "README.md"), Readme(root, spec, split, addresses, passwordVariable, port, chainId, certificateHosts), ct);
        return new WrittenNetwork(
            new { address = addresses["coordinator"].ToString(), key = Path.Combine(keys, "coordinator.json") },
            trainers.Select(f => (object)new { name = f.Name, address = addresses[f.Name].ToString(), key = Path.Combine(keys, f.Name + ".json"), data = f.Folder, examples = f.Examples }).ToArray(),
            validators.Select(f => (object)new { name = f.Name, address = addresses[f.Name].ToString(), key = Path.Combine(keys, f.Name + ".json"), data = f.Folder, examples = f.Examples }).ToArray());
    }

    private static async Task WriteScriptAsync(string path, string text, CancellationToken ct)
    {
        await File.WriteAllTextAsync(path, text, ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>
    /// The start script: the coordinator first, waiting (bounded) for the lines where it says its addresses, then
    /// each node pointed at it. SKEIN_PORT and SKEIN_API_PORT override the ports (0: any free one).
    /// </summary>
    private static string StartScript(NodeSplit split, TaskSpec spec, string passwordVariable, int port, bool tls)
    {
        var keyPassword = passwordVariable == "SKEIN_KEY_PASSWORD" ? "" : $" --password-env {passwordVariable}";
        var coordinatorTls = keyPassword + (tls ? $" --tls-cert tls/coordinator.pfx --tls-password-env {passwordVariable} --host \"${{SKEIN_HOST:-127.0.0.1}}\"" : "");
        var nodeTls = keyPassword + (tls ? " --tls-pin tls/coordinator.pin.pem" : "");
        var launcher = Environment.GetEnvironmentVariable("SKEIN_LAUNCHER") ?? "skein";
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $$"""
            #!/usr/bin/env bash
            # Starts this network on this machine: the coordinator, then every node, each in the background with its
            # log in logs/. Written by skein init network; edit freely. Stop it all with ./stop.sh.
            set -euo pipefail
            cd "$(dirname "${BASH_SOURCE[0]}")"
            SKEIN="${SKEIN:-{{launcher}}}"
            PORT="${SKEIN_PORT:-{{port}}}"
            API_PORT="${SKEIN_API_PORT:-{{(port == 0 ? 0 : port + 1)}}}"
            : "${{{passwordVariable}}:?set {{passwordVariable}} to the password the keys were made with}"
            mkdir -p logs run
            if [[ -f run/coordinator.pid ]] && kill -0 "$(cat run/coordinator.pid)" 2>/dev/null; then
              echo "this network is already running (./stop.sh stops it)" >&2
              exit 1
            fi
            rm -f run/coordinator.out grpc-url api-url
            "$SKEIN" coordinator --key-file keys/coordinator.json --data-dir coordinator --genesis genesis.json --task task.json \
              --start-when-joined {{spec.TrainersPerRound}}:{{spec.ValidatorsPerRound}} --port "$PORT" --api-port "$API_PORT"{{(split.Eval is null ? "" : " --eval-data data/eval")}}{{coordinatorTls}} \
              > run/coordinator.out 2> logs/coordinator.log &
            echo $! > run/coordinator.pid
            # The coordinator prints where it listens once it does (the first start also builds Skein: give it time).
            for _ in $(seq 1 3000); do
              grep -q '^api ' run/coordinator.out 2>/dev/null && break
              if ! kill -0 "$(cat run/coordinator.pid)" 2>/dev/null; then
                echo "the coordinator stopped; see logs/coordinator.log:" >&2
                tail -n 5 logs/coordinator.log >&2
                exit 1
              fi
              sleep 0.2
            done
            grpc="$(sed -n 's/^listening //p' run/coordinator.out)"
            api="$(sed -n 's/^api //p' run/coordinator.out)"
            if [[ -z "$api" ]]; then
              echo "the coordinator did not say where it listens within 10 minutes; see logs/coordinator.log" >&2
              exit 1
            fi
            echo "$grpc" > grpc-url
            echo "$api" > api-url

            """);
        foreach (var f in split.Folders)
        {
            var stake = f.Role == "trainer" ? "--trainer-stake 50" : "--validator-stake 100";
            b.Append(CultureInfo.InvariantCulture, $"""
                "$SKEIN" node --key-file keys/{f.Name}.json --data data/{f.Name} --coordinator "$grpc" {stake}{nodeTls} > logs/{f.Name}.log 2>&1 &
                echo $! > run/{f.Name}.pid

                """);
        }
        b.Append(CultureInfo.InvariantCulture, $$"""
            echo "coordinator: $grpc (nodes), $api (JSON API); {{split.Folders.Count}} nodes started; logs in $(pwd)/logs"
            echo "follow it:   skein verify --coordinator $api --task 1 --wait{{(tls ? " --tls-pin tls/coordinator.pin.pem" : "")}}"

            """);
        return b.ToString();
    }

    private const string StopScript = """
        #!/usr/bin/env bash
        # Stops this network: the nodes first, then the coordinator; each gets 20 s to finish what it writes.
        set -uo pipefail
        cd "$(dirname "${BASH_SOURCE[0]}")"
        [[ -d run ]] || { echo "not running"; exit 0; }
        stop() {
          local pid
          pid="$(cat "$1")"
          if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
          fi
          rm -f "$1"
        }
        for f in run/*.pid; do
          [[ -e "$f" && "$f" != run/coordinator.pid ]] && stop "$f" &
        done
        wait
        [[ -e run/coordinator.pid ]] && stop run/coordinator.pid
        echo "stopped"

        """;

    private static string Readme(string root, TaskSpec spec, NodeSplit split, Dictionary<string, Address> addresses, string passwordVariable, int port, ulong chainId,
        IReadOnlyList<string>? certificateHosts)
    {
        var tls = certificateHosts is not null;
        var scheme = tls ? "https" : "http";
        var pin = tls ? " --tls-pin tls/coordinator.pin.pem" : "";
        var keyPassword = passwordVariable == "SKEIN_KEY_PASSWORD" ? "" : $" --password-env {passwordVariable}";
        var ports = port == 0 ? "any free ports, printed when it starts" : $"port {port} for nodes and {port + 1} for the JSON API";
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"""
            # {Path.GetFileName(root)}: a Skein network of your own

            Written by `skein init network`. Everything here is yours to edit: the task, the genesis, the scripts.

            | | |
            |---|---|
            | task | `task.json`: {spec.Name}, model {spec.Model.Name}, {spec.Rounds} rounds, {spec.TrainersPerRound} trainers and {spec.ValidatorsPerRound} validator(s) a round |
            | chain | `genesis.json`: chain id {chainId}; the coordinator holds 1,000,000 tokens (it escrows the reward pool), every node 1,000 (trainers stake 50, validators 100) |
            | keys | `keys/*.json`: encrypted (Web3 Secret Storage); the password is in `${passwordVariable}` |
            | data | `data/<node>`: each node's private folder ({split.Plan.Partition.ToString().ToLowerInvariant()} split of {split.Dataset}){(split.Eval is null ? "" : "; `data/eval` is the coordinator's public test set")} |
            | tls | {(tls ? $"`tls/coordinator.pfx` (the coordinator's certificate and key, locked with the keys' password; it stays on the coordinator's machine) and `tls/coordinator.pin.pem` (what nodes and verify trust), for {string.Join(", ", certificateHosts!)}" : "none: plain HTTP/2, fine on one machine (see below for others)")} |

            ## Run it on this machine

            ```sh
            export {passwordVariable}='the password you chose'
            ./start.sh                 # the coordinator, then every node, in the background; logs in logs/
            skein verify --coordinator "$(cat api-url)" --task 1 --wait{pin}    # follow the rounds, then recompute each one
            ./stop.sh
            ```

            `SKEIN_PORT` and `SKEIN_API_PORT` change the ports for one start (0: any free port){(tls ? "; `SKEIN_HOST=0.0.0.0 ./start.sh` lets other machines in" : "")}.

            ## Each process by hand (or on its own machine)

            The coordinator ({ports}):

            ```sh
            skein coordinator --key-file keys/coordinator.json --data-dir coordinator --genesis genesis.json --task task.json \
              --start-when-joined {spec.TrainersPerRound}:{spec.ValidatorsPerRound} --port {port} --api-port {(port == 0 ? 0 : port + 1)}{(split.Eval is null ? "" : " --eval-data data/eval")}{keyPassword}{(tls ? $" --tls-cert tls/coordinator.pfx --tls-password-env {passwordVariable}" : "")}
            ```

            Each node, given its key{(tls ? ", the pin" : "")} and its own data folder only:

            | node | address | command |
            |---|---|---|

            """);
        foreach (var f in split.Folders)
        {
            var stake = f.Role == "trainer" ? "--trainer-stake 50" : "--validator-stake 100";
            b.Append(CultureInfo.InvariantCulture, $"| {f.Name} ({f.Examples} examples) | `{addresses[f.Name]}` | `skein node --key-file keys/{f.Name}.json --data data/{f.Name} --coordinator {scheme}://COORDINATOR:{port}/ {stake}{keyPassword}{pin}` |\n");
        }
        b.Append('\n');
        b.Append(tls
            ? $"""
              The coordinator binds 127.0.0.1 unless told `--host` (`SKEIN_HOST` in start.sh). Nodes on other machines
              reach it by a name the certificate holds ({string.Join(", ", certificateHosts!)}); copy `tls/coordinator.pin.pem`
              to each of them, never the PFX.

              """
            : """
              The coordinator binds 127.0.0.1 unless told `--host`. Across machines, give it a certificate first, so that
              nodes pin it from their first connection (or make the network with `skein init network --tls --host NAME`):

              ```sh
              skein tls new --out tls --host coordinator.example.org
              skein coordinator ... --host 0.0.0.0 --tls-cert tls/coordinator.pfx      # SKEIN_TLS_PASSWORD holds its password
              skein node ... --coordinator https://coordinator.example.org:PORT/ --tls-pin tls/coordinator.pin.pem
              ```

              """);
        b.Append("""
            A restarted process resumes where it stopped: the coordinator's state is in `coordinator/`, each node's in
            `data/<node>/state`. To start afresh, stop everything and delete `coordinator/` and `data/*/state`.

            """);
        return b.ToString();
    }
}
