using System.Diagnostics;

namespace Skein.Cli.Tests;

/// <summary>
/// A temporary folder where <c>./skein</c> runs this build of the CLI, for tests that run shell commands as a user
/// would (the README's blocks, the scripts <c>skein init network</c> writes). Disposing kills whatever those scripts
/// left running (their pid files) and deletes the folder.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ShellFolder : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("skein-shell-");

    public ShellFolder()
    {
        Launcher = Path.Combine(_dir.FullName, "skein");
        File.WriteAllText(Launcher, $"""
            #!/usr/bin/env bash
            export SKEIN_LAUNCHER="{Launcher}"
            exec dotnet "{Path.Combine(AppContext.BaseDirectory, "skein.dll")}" "$@"

            """);
        File.SetUnixFileMode(Launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Dir => _dir.FullName;

    /// <summary><c>./skein</c> in the folder.</summary>
    public string Launcher { get; }

    /// <summary>
    /// Runs bash with <paramref name="arguments"/> in the folder; a null in <paramref name="environment"/> unsets that
    /// variable. <c>SKEIN</c> (which start scripts run) is this build's launcher unless unset. Ports 0: tests run side by side, so a network takes
    /// free ports (its start script reads where the coordinator listens).
    /// </summary>
    public async Task<(int Code, string Stdout, string Stderr)> BashAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment, TimeSpan bound, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("bash") { WorkingDirectory = _dir.FullName, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SKEIN"] = Launcher;
        psi.Environment["SKEIN_PORT"] = "0";
        psi.Environment["SKEIN_API_PORT"] = "0";
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                psi.Environment.Remove(name);
            }
            else
            {
                psi.Environment[name] = value;
            }
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        try
        {
            await p.WaitForExitAsync(ct).WaitAsync(bound, ct);
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        foreach (var pidFile in Directory.GetFiles(_dir.FullName, "*.pid", SearchOption.AllDirectories))
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // already gone
                }
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
            // a log still being closed; the temp folder is the system's to clean
        }
    }
}
