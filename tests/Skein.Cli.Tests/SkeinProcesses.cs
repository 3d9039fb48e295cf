using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>
/// What tests with parties in separate processes share: a temporary folder, deterministic keys written as key files,
/// `skein` processes whose stderr goes to a log per process, and a cleanup that kills them all.
/// </summary>
public abstract class SkeinProcesses(string folderPrefix, string keyPrefix) : IDisposable
{
    protected const string Password = "process-test-password";

    private readonly List<Process> _processes = [];

    protected string Dir { get; } = Directory.CreateTempSubdirectory(folderPrefix).FullName;

    /// <summary>Every process this test started.</summary>
    protected IReadOnlyList<Process> Processes => _processes;

    protected LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes(keyPrefix + name)));

    protected string KeyFileOf(string name)
    {
        var path = Path.Combine(Dir, "keys", name + ".json");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var key = Key(name);
            File.WriteAllText(path, KeyFile.Encrypt(key, Password, KdfStrength.Light));
        }
        return path;
    }

    /// <summary>Starts `skein ARGS` from this test's build output, with the key password in the environment.</summary>
    protected Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "skein.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SKEIN_KEY_PASSWORD"] = Password;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start skein");
        _processes.Add(p);
        // Drain stderr (into a log file per process) so a chatty process never blocks on a full pipe.
        var log = Path.Combine(Dir, $"{args[0]}-{_processes.Count}.log");
        _ = Task.Run(async () => await File.WriteAllTextAsync(log, await p.StandardError.ReadToEndAsync()));
        return p;
    }

    /// <summary>Writes a genesis funding every named party with 1,000 tokens, and the task spec; returns both paths.</summary>
    protected async Task<(string Genesis, string Spec)> WriteChainAsync(ulong chainId, IEnumerable<string> parties, string specJson, CancellationToken ct)
    {
        var genesis = new Genesis(chainId, LedgerParams.Default, parties.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        var genesisFile = Path.Combine(Dir, "genesis.json");
        await File.WriteAllTextAsync(genesisFile, GenesisJson.Serialize(genesis), ct);
        var spec = Path.Combine(Dir, "task.json");
        await File.WriteAllTextAsync(spec, specJson, ct);
        return (genesisFile, spec);
    }

    /// <summary>Starts a trainer node on synthetic images of its own (<paramref name="samples"/> of them, from <paramref name="seed"/>).</summary>
    protected Process StartTrainer(string name, string coordinator, int samples, ulong seed, string stake, string behaviour = "honest")
    {
        var data = Path.Combine(Dir, name);
        SyntheticImages.WriteIdxFiles(data, "train", samples, seed);
        return Start("node", "--key-file", KeyFileOf(name), "--coordinator", coordinator, "--data", data, "--trainer-stake", stake, "--behaviour", behaviour);
    }

    /// <summary>Starts a validator node holding 300 synthetic held-out images from <paramref name="seed"/>.</summary>
    protected Process StartValidator(string name, string coordinator, ulong seed, string stake)
    {
        var data = Path.Combine(Dir, name);
        SyntheticImages.WriteIdxFiles(data, "heldout", 300, seed);
        return Start("node", "--key-file", KeyFileOf(name), "--coordinator", coordinator, "--data", data, "--validator-stake", stake);
    }

    /// <summary>The gRPC and API URLs a coordinator prints first, both on loopback.</summary>
    protected static async Task<(string Grpc, string Api)> ReadAddressesAsync(Process coordinator, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        var line = await coordinator.StandardOutput.ReadLineAsync(ct);
        Assert.True(line?.StartsWith("listening http://127.0.0.1:", StringComparison.Ordinal), $"coordinator said: {line}");
        var apiLine = await coordinator.StandardOutput.ReadLineAsync(ct);
        Assert.True(apiLine?.StartsWith("api http://127.0.0.1:", StringComparison.Ordinal), $"coordinator said: {apiLine}");
        return (line![10..], apiLine![4..]);
    }

    protected static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Runs a short skein command to its end; its exit code and stdout.</summary>
    protected async Task<(int Code, string Stdout)> RunToEndAsync(CancellationToken ct, params string[] args)
    {
        var p = Start(args);
        var stdout = await p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(120), ct);
        return (p.ExitCode, stdout);
    }

    /// <summary>Rows of one transaction type committed so far on an embedded chain, read without disturbing its writer (read-only SQLite).</summary>
    protected static long Transactions(string ledgerPath, string type)
    {
        if (!File.Exists(ledgerPath))
        {
            return 0;
        }
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={ledgerPath};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM transactions WHERE type = $type";
        cmd.Parameters.AddWithValue("$type", type);
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>Runs before the folder is deleted, after every process was killed.</summary>
    protected virtual void CleanUp()
    {
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }
                p.WaitForExit(5_000);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            p.Dispose();
        }
        CleanUp();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // Log writers finish just after their process exits: a few bounded retries.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(Dir, recursive: true);
                break;
            }
            catch (IOException) when (attempt < 10)
            {
                Thread.Sleep(200);
            }
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Test classes whose parties are many `skein` processes training at once: they run one after another, not beside each
/// other, so that on a 2-core machine one class's nodes do not starve another's past its bounded waits.
/// </summary>
[CollectionDefinition(Name)]
public sealed class NetworkProcesses
{
    public const string Name = "network processes";
}
