using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Skein.Ledger.Evm;

/// <summary>
/// A local EVM chain: Anvil (Foundry) from its npm package, pinned, started on a free loopback port and stopped on
/// dispose. Found at <c>$SKEIN_ANVIL</c>, else in the per-user tools folder, else installed there with npm.
/// </summary>
public sealed partial class AnvilNode : IAsyncDisposable
{
    public const string Package = "@foundry-rs/anvil-linux-amd64";
    public const string Version = "1.7.1";

    private readonly Process _process;

    private AnvilNode(Process process, Uri rpc, ulong chainId, string devKey)
    {
        _process = process;
        Rpc = rpc;
        ChainId = chainId;
        DevKey = devKey;
    }

    /// <summary>The JSON-RPC endpoint (HTTP on 127.0.0.1).</summary>
    public Uri Rpc { get; }

    public ulong ChainId { get; }

    /// <summary>The private key (hex) of Anvil's first funded development account, to pay gas as a relayer.</summary>
    public string DevKey { get; }

    /// <summary>Where Anvil is or will be installed for this user.</summary>
    public static string ToolsFolder(string? dataDirectory = null) => Path.Combine(
        dataDirectory ?? Environment.GetEnvironmentVariable("SKEIN_DATA_DIR") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "skein"),
        "tools", $"anvil-{Version}");

    /// <summary>The anvil executable: $SKEIN_ANVIL, or the tools folder, installed there with npm if missing.</summary>
    public static async Task<string> LocateAsync(Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (Environment.GetEnvironmentVariable("SKEIN_ANVIL") is { Length: > 0 } given)
        {
            return File.Exists(given) ? given : throw new FileNotFoundException($"SKEIN_ANVIL names {given}, which does not exist");
        }
        var folder = ToolsFolder();
        var binary = Path.Combine(folder, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
        if (File.Exists(binary))
        {
            return binary;
        }
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            throw new PlatformNotSupportedException($"{Package} is built for Linux x64 only; set SKEIN_ANVIL to an anvil binary");
        }
        Directory.CreateDirectory(folder);
        log?.Invoke($"installing {Package}@{Version} with npm into {folder}");
        var npm = new ProcessStartInfo("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefix", folder, $"{Package}@{Version}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0 || !File.Exists(binary))
        {
            throw new InvalidOperationException($"npm install {Package}@{Version} failed (exit {process.ExitCode}): {(await stderr).Trim()}");
        }
        return binary;
    }

    /// <summary>Starts a fresh chain with <paramref name="chainId"/> on a free loopback port, mining a block per transaction.</summary>
    public static Task<AnvilNode> StartAsync(ulong chainId, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        StartAsync(chainId, 0, null, log, cancellationToken);

    /// <summary>
    /// Starts a chain on <paramref name="port"/> (0: a free one); with <paramref name="stateFile"/>, it loads the chain
    /// from that file if it exists and writes it back when stopped with <see cref="StopAsync"/>.
    /// </summary>
    public static Task<AnvilNode> StartAsync(ulong chainId, int port, string? stateFile, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        StartAsync(chainId, port, stateFile, 0, log, cancellationToken);

    /// <summary>
    /// As the other overloads, and with <paramref name="blockTimeSeconds"/> &gt; 0 the chain also makes a block every that
    /// many seconds when nobody transacts (Anvil's mixed mining), so that chain time, and with it the market's
    /// blocks, moves on as on a public chain; transactions are still mined at once.
    /// </summary>
    public static async Task<AnvilNode> StartAsync(ulong chainId, int port, string? stateFile, int blockTimeSeconds, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var binary = await LocateAsync(log, cancellationToken);
        var info = new ProcessStartInfo(binary, ["--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--chain-id", chainId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--accounts", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (blockTimeSeconds > 0)
        {
            info.ArgumentList.Add("--block-time");
            info.ArgumentList.Add(blockTimeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            info.ArgumentList.Add("--mixed-mining");
        }
        if (stateFile is not null)
        {
            info.ArgumentList.Add("--state");
            info.ArgumentList.Add(stateFile);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{binary} did not start");
        try
        {
            string? key = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var privateKeys = false;
            for (var i = 0; i < 500; i++)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"anvil exited before listening: {await process.StandardError.ReadToEndAsync(cancellationToken)}");
                if (line.StartsWith("Private Keys", StringComparison.Ordinal))
                {
                    privateKeys = true;
                }
                else if (privateKeys && key is null && KeyLine().Match(line) is { Success: true } m)
                {
                    key = m.Groups[1].Value;
                }
                else if (ListeningLine().Match(line) is { Success: true } listening)
                {
                    // Keep draining its output so that anvil never blocks on a full pipe.
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                    return new AnvilNode(process, new Uri($"http://{listening.Groups[1].Value}/"), chainId,
                        key ?? throw new InvalidOperationException("anvil printed no development key"));
                }
            }
            throw new InvalidOperationException("anvil printed no address");
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Mines <paramref name="blocks"/> empty blocks at once (<c>anvil_mine</c>), to move past a waiting period.</summary>
    public Task MineAsync(ulong blocks, CancellationToken cancellationToken = default) => CallAsync("anvil_mine", $"\"0x{blocks:x}\"", cancellationToken);

    /// <summary>Gives the next block this timestamp in seconds (<c>evm_setNextBlockTimestamp</c>); later blocks follow on from it.</summary>
    public Task SetNextBlockTimestampAsync(long seconds, CancellationToken cancellationToken = default) =>
        CallAsync("evm_setNextBlockTimestamp", $"\"0x{seconds:x}\"", cancellationToken);

    /// <summary>Moves the chain's clock on by <paramref name="seconds"/> (<c>evm_increaseTime</c>) and mines a block at the new time.</summary>
    public async Task IncreaseTimeAsync(long seconds, CancellationToken cancellationToken = default)
    {
        await CallAsync("evm_increaseTime", $"\"0x{seconds:x}\"", cancellationToken);
        await MineAsync(1, cancellationToken);
    }

    /// <summary>Sets the ether balance of <paramref name="address"/> (<c>anvil_setBalance</c>): a relayer's gas money on a dev chain.</summary>
    public Task FundAsync(string address, System.Numerics.BigInteger wei, CancellationToken cancellationToken = default) =>
        CallAsync("anvil_setBalance", $"\"{address}\",\"{new Nethereum.Hex.HexTypes.HexBigInteger(wei).HexValue}\"", cancellationToken);

    /// <summary>Ether enough for a relayer to pay for a long demo many times over.</summary>
    public static System.Numerics.BigInteger ThousandEther => System.Numerics.BigInteger.Pow(10, 21);

    private async Task CallAsync(string method, string parameters, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var body = new StringContent($$"""{"jsonrpc":"2.0","id":1,"method":"{{method}}","params":[{{parameters}}]}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(Rpc, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode || text.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{method} failed: {text}");
        }
    }

    /// <summary>Stops the chain as Ctrl+C would (SIGTERM): with a state file, Anvil writes the chain to it before it exits.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_process.HasExited)
        {
            return;
        }
        // .NET can only kill (SIGKILL); a graceful stop needs the signal Anvil saves its state on.
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) ?? throw new InvalidOperationException("kill did not start"))
        {
            await kill.WaitForExitAsync(cancellationToken);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Stops the chain (SIGKILL; a dev chain keeps nothing) and waits for the process to go.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"^\(0\)\s+(0x[0-9a-fA-F]{64})")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^Listening on (127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
