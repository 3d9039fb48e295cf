using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Skein.Ledger.Crypto;

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

    /// <summary>Runs a short skein command to its end; its exit code and stdout.</summary>
    protected async Task<(int Code, string Stdout)> RunToEndAsync(CancellationToken ct, params string[] args)
    {
        var p = Start(args);
        var stdout = await p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(120), ct);
        return (p.ExitCode, stdout);
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
