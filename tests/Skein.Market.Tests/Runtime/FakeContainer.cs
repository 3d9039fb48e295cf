using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>
/// A container of the fake engine: its create request as received, and a real process (in a session of its own)
/// running its entrypoint and cmd, with stdout and stderr kept as the engine's log frames.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FakeContainer(string id, string name, JsonObject create, IReadOnlyList<string> argv)
{
    private readonly Lock _gate = new();
    private readonly List<(byte Stream, byte[] Data)> _frames = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;
    private Task _ended = Task.CompletedTask;

    public string Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>The create request's body, as the runtime sent it.</summary>
    public JsonObject Create { get; } = create;

    public IReadOnlyList<string> Argv { get; } = argv;

    public string Status { get; private set; } = "created";

    public int ExitCode { get; private set; }

    public int Pid { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public bool Running => Status == "running";

    public void Start()
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in Argv)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        foreach (var pair in Create["Env"]?.AsArray().Select(e => e!.GetValue<string>().Split('=', 2)) ?? [])
        {
            psi.Environment[pair[0]] = pair[1];
        }

        // The test host is no group leader, so setsid(1) calls setsid(2) in place: the pid is the session's and group's.
        _process = Process.Start(psi)!;
        _process.StandardInput.Close();
        Pid = _process.Id;
        StartedAt = DateTimeOffset.UtcNow;
        FinishedAt = null;
        Status = "running";
        var pumps = new[] { Pump(_process.StandardOutput.BaseStream, 1), Pump(_process.StandardError.BaseStream, 2) };
        _ended = EndAsync(_process, pumps);
    }

    /// <summary>SIGTERM to the container's group, SIGKILL after <paramref name="seconds"/>, as docker stop does.</summary>
    public async Task StopAsync(int seconds)
    {
        Signals.ToGroup(Pid, Signals.SIGTERM);
        Signals.ToProcess(Pid, Signals.SIGTERM);
        if (await Task.WhenAny(_ended, Task.Delay(TimeSpan.FromSeconds(seconds))) != _ended)
        {
            Kill();
        }

        await _ended;
    }

    public void Kill()
    {
        if (Running)
        {
            // Until setsid(2) has run in the child there is no group of that id yet: signal the process itself too.
            Signals.ToGroup(Pid, Signals.SIGKILL);
            Signals.ToProcess(Pid, Signals.SIGKILL);
        }
    }

    public Task Ended => _ended;

    /// <summary>Frames from <paramref name="from"/> on, whether the container has ended (then no frame can follow), and a task that completes on the next change.</summary>
    public (List<(byte Stream, byte[] Data)> Frames, bool Ended, Task Changed) Read(int from)
    {
        lock (_gate)
        {
            return (_frames.Skip(from).ToList(), !Running, _changed.Task);
        }
    }

    private async Task Pump(Stream stream, byte kind)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lock (_gate)
            {
                _frames.Add((kind, buffer[..read]));
                Signal();
            }
        }
    }

    private async Task EndAsync(Process process, Task[] pumps)
    {
        await process.WaitForExitAsync();
        await Task.WhenAll(pumps);
        lock (_gate)
        {
            ExitCode = process.ExitCode;
            FinishedAt = DateTimeOffset.UtcNow;
            Status = "exited";
            Signal();
        }

        process.Dispose();
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
