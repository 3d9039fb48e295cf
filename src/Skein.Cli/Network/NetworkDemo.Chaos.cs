using System.Diagnostics;

namespace Skein.Cli.Network;

/// <summary>What the chaos bench needs from the demo's network: SIGKILL a party by name and start it again with the same arguments.</summary>
public sealed partial class NetworkDemo
{
    private readonly HashSet<string> _down = [];

    /// <summary>Every process the demo ever started, killed or not (the bench checks that none outlives it).</summary>
    public IReadOnlyList<Process> AllProcesses
    {
        get
        {
            lock (_processes)
            {
                return [.. _processes];
            }
        }
    }

    /// <summary>Parties whose process exited while nobody had killed it, with their exit codes: a crash.</summary>
    public IReadOnlyList<(string Name, int ExitCode)> Crashed()
    {
        lock (_processes)
        {
            return [.. _named.Where(kv => !_down.Contains(kv.Key) && kv.Value.Process.HasExited).Select(kv => (kv.Key, kv.Value.Process.ExitCode))];
        }
    }

    /// <summary>SIGKILLs a party (no chance to flush or say goodbye) and waits until the process is gone.</summary>
    public async Task KillAsync(string name, CancellationToken cancellationToken)
    {
        Process p;
        lock (_processes)
        {
            p = _named[name].Process;
            _down.Add(name);
        }
        if (!p.HasExited)
        {
            p.Kill(entireProcessTree: true);
        }
        await p.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>
    /// Starts a killed (or crashed) party again with the arguments it first had. A coordinator comes back on the same
    /// ports and folder; this returns once it answers on its API again.
    /// </summary>
    public async Task RestartAsync(string name, CancellationToken cancellationToken)
    {
        string[] args;
        lock (_processes)
        {
            args = _named[name].Args;
        }
        var p = Start(name, args);
        lock (_processes)
        {
            _down.Remove(name);
        }
        if (name != "coordinator")
        {
            return;
        }
        for (var i = 0; i < 10; i++)
        {
            var line = await p.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(120), cancellationToken)
                ?? throw new InvalidOperationException($"the restarted coordinator exited before listening; see {Path.Combine(_work, "logs", "coordinator.log")}");
            if (line.StartsWith("api ", StringComparison.Ordinal))
            {
                return;
            }
        }
        throw new InvalidOperationException("the restarted coordinator printed no API address");
    }

    /// <summary>Stops one party for good (SIGKILL), as the end of a run does, without counting it as a crash.</summary>
    public Task StopAsync(string name, CancellationToken cancellationToken) => KillAsync(name, cancellationToken);

    /// <summary>The coordinator's data folder: its ledger and blob store.</summary>
    public string CoordinatorData => Path.Combine(_work, "coordinator");
}
