using Skein.Ledger.Crypto;

namespace Skein.Console;

/// <summary>What a console shows and where it listens: the coordinator's and the market's APIs, its own address, and whether it may act.</summary>
public sealed record ConsoleOptions
{
    /// <summary>The coordinator's JSON API (the `api` URL it prints).</summary>
    public required Uri Coordinator { get; init; }

    /// <summary>The market's API; by default the coordinator's, which serves both.</summary>
    public Uri? Market { get; init; }

    /// <summary>Address to listen on; loopback unless told otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Show no action even with a key.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>How often the console looks for new blocks and rounds (pages update within about this long).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>The folder of the deploy templates; by default the repository's templates/.</summary>
    public string? TemplatesRoot { get; init; }

    /// <summary>
    /// Set when the console runs inside a coordinator (<c>skein coordinator --console</c>): a created task is hosted by
    /// it (initial model stored, rounds run) instead of only being recorded on the ledger. Returns the task's id.
    /// </summary>
    public Func<string, CancellationToken, Task<ulong>>? HostTask { get; init; }

    /// <summary>Names to show next to addresses (e.g. the demo's "trainer-03"), by address.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Verify settled rounds in the background, so every round shows its status (off for benchmarks).</summary>
    public bool VerifyRounds { get; init; } = true;

    /// <summary>How hard the key files the console makes for deployed nodes are to unlock: the standard scrypt cost; tests use a light one.</summary>
    internal KdfStrength NodeKeyStrength { get; init; } = KdfStrength.Standard;
}
