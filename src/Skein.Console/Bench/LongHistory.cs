using System.Security.Cryptography;
using System.Text;
using Skein.Ledger;
using Skein.Ledger.Crypto;

namespace Skein.Console.Bench;

/// <summary>What <see cref="LongHistoryGenerator"/> builds: settled rounds, nodes (a fifth of them validators) and the seed everything is drawn from.</summary>
public sealed record LongHistoryOptions
{
    /// <summary>Settled rounds of the task; one more round is left open in training, as on a live network.</summary>
    public int Rounds { get; init; } = 1000;

    /// <summary>Trainers and validators together; a fifth (at least 3) validate.</summary>
    public int Nodes { get; init; } = 100;

    /// <summary>Keys, stakes, scores, rejections and slashes all derive from it: the same seed gives the same chain, block for block.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Null when usable, else the first problem, naming the option.</summary>
    public string? Validate() => Rounds < 2 ? $"--rounds: must be >= 2, got {Rounds}" : Nodes < 6 ? $"--nodes: must be >= 6 (3 validators, 3 trainers), got {Nodes}" : null;

    /// <summary>The key of a named participant of the history (coordinator, trainer-0, validator-0, delegator-0, provider-0, tenant-0).</summary>
    public LedgerKey Key(string name) =>
        LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes($"skein-bench-console/{Seed}/{name}")));
}

/// <summary>
/// A generated history on disk (ledger.db and coordinator.db in a data folder a coordinator can serve): its task,
/// its size, how long it took, and the accounts worth looking at.
/// </summary>
public sealed record LongHistory(
    ulong TaskId,
    int Rounds,
    int Trainers,
    int Validators,
    long Transactions,
    ulong Blocks,
    double Seconds,
    Address Coordinator,
    Address BusiestTrainer,
    Address BusiestValidator,
    int RejectedUpdates,
    int Slashes,
    int Leases);
