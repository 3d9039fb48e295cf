using Skein.Coordinator.Blobs;
using Skein.Coordinator.Sessions;
using Skein.Coordinator.State;
using Skein.Ledger.Crypto;
using Skein.Ledger;
using Skein.Ledger.Incentives;

namespace Skein.Coordinator;

/// <summary>How long each phase of a round may last before the coordinator moves on with whoever answered.</summary>
public sealed record RoundTimings(TimeSpan Training, TimeSpan Committing, TimeSpan Revealing)
{
    /// <summary>
    /// A tournament window closes before its deadline once every picked trainer has submitted and no submission has come
    /// for this long (a trainer's further tries within the limit arrive back to back), or once all have used the limit.
    /// </summary>
    public TimeSpan TournamentQuiet { get; init; } = TimeSpan.FromSeconds(5);

    public static RoundTimings Default { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
}

/// <summary>Options of a coordinator process.</summary>
public sealed record CoordinatorOptions
{
    /// <summary>Folder for the ledger, blobs and the coordinator's index.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Address to listen on; loopback unless the operator says otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Port of the JSON HTTP API over HTTP/1.1 (0 picks a free port). gRPC needs HTTP/2, which plain-text clients such as browsers and curl do not speak by default, so the API has its own endpoint.</summary>
    public int ApiPort { get; init; }

    public long MaxUpdateBytes { get; init; } = 256L << 20;

    public RoundTimings Timings { get; init; } = RoundTimings.Default;

    /// <summary>Optional TLS certificate (PFX) and its password for HTTPS.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>
    /// A public test set (a folder with eval-images-idx3-ubyte and eval-labels-idx1-ubyte) on which the coordinator
    /// tests each new global model, for the accuracy and loss curves of the API and the console. Validators still judge
    /// updates on their own private data; this is only a public yardstick.
    /// </summary>
    public string? EvaluationData { get; init; }

    /// <summary>
    /// The model registry (a folder, as <c>skein model</c> keeps it) that fine-tuning tasks take their base model
    /// from; the base is then published in the blob store for nodes to download by hash.
    /// </summary>
    public string? ModelRegistry { get; init; }

    /// <summary>Connections, body sizes, slow clients and requests a second per client, on gRPC and the JSON API.</summary>
    public Skein.Market.Serving.ServerLimits Limits { get; init; } = Skein.Market.Serving.ServerLimits.Default;

    /// <summary>The embedded chain's file (default: ledger.db in <see cref="DataDirectory"/>): a coordinator that takes a task over on the same machine opens the chain its predecessor kept.</summary>
    public string? LedgerFile { get; init; }

    /// <summary>
    /// Where to fetch blobs this coordinator lacks: other coordinators' (or mirrors') JSON APIs, or folders of published
    /// blobs (file: URIs). A coordinator that took a task over (skein task handover) mirrors the task's models and updates from them.
    /// </summary>
    public IReadOnlyList<Uri> Peers { get; init; } = [];

    /// <summary>Keep the ledger on an EVM chain (SkeinLedger.sol and SkeinTasks.sol) instead of the embedded chain in the data folder.</summary>
    public EvmChainOptions? Evm { get; init; }
}

/// <summary>
/// Where the EVM ledger lives: the node's JSON-RPC URL, the chain id it must serve, and the SkeinLedger contract (null:
/// the one this coordinator deployed before, recorded in its data folder, or a new deployment from the genesis).
/// </summary>
public sealed record EvmChainOptions(Uri Rpc, ulong? ChainId = null, string? Contract = null)
{
    /// <summary>Confirmations, node retries and polling of the EVM ledger.</summary>
    public Skein.Ledger.Evm.EvmLedgerOptions Ledger { get; init; } = new();
}

/// <summary>Everything the coordinator's services share: the ledger, the blobs, the index, sessions, its key and the round events.</summary>
public sealed class CoordinatorContext(CoordinatorOptions options, ILedger ledger, IncentiveParams incentives, BlobStore blobs, CoordinatorIndex index, SessionStore sessions, LedgerKey key)
    : IAsyncDisposable
{
    public CoordinatorOptions Options { get; } = options;

    public ILedger Ledger { get; } = ledger;

    /// <summary>The settlement's parameters as the ledger applies them: the engine decides with them which updates to aggregate.</summary>
    public IncentiveParams Incentives { get; } = incentives;

    public BlobStore Blobs { get; } = blobs;

    public CoordinatorIndex Index { get; } = index;

    public SessionStore Sessions { get; } = sessions;

    /// <summary>The coordinator's own key: it created the hosted tasks and signs their phase transitions.</summary>
    public LedgerKey Key { get; } = key;

    public RoundEvents Events { get; } = new();

    /// <summary>
    /// A blob by hash: from the store, else from the first peer that has it (checked against its hash, then kept).
    /// Throws <see cref="FileNotFoundException"/> naming the hash when no one has it.
    /// </summary>
    public async Task<byte[]> ReadBlobAsync(string sha256, CancellationToken cancellationToken)
    {
        if (Blobs.Exists(sha256))
        {
            return await Blobs.ReadAllAsync(sha256, cancellationToken);
        }
        if (await FromPeersAsync(Options.Peers, sha256, cancellationToken) is { } bytes)
        {
            await Blobs.PutAsync(bytes, cancellationToken);
            return bytes;
        }
        throw new FileNotFoundException($"blob {sha256} is neither in this coordinator's store nor at any of its {Options.Peers.Count} peer(s)");
    }

    /// <summary>
    /// A blob from the first of <paramref name="peers"/> that has it: coordinators' (or mirrors') APIs, or folders of
    /// published blobs (file: URIs); each checked against its hash. Null when none has it.
    /// </summary>
    public static async Task<byte[]?> FromPeersAsync(IEnumerable<Uri> peers, string sha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peers);
        foreach (var peer in peers)
        {
            if (peer.IsFile)
            {
                if (await FromFolderAsync(peer.LocalPath, sha256, cancellationToken) is { } local)
                {
                    return local;
                }
                continue;
            }
            using var client = new Api.CoordinatorApiClient(peer);
            try
            {
                return await client.GetBlobAsync(sha256, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidDataException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // This peer lacks it, sent bytes that are not it, or is gone: try the next.
            }
        }
        return null;
    }

    /// <summary>A blob from a folder of published blobs (another coordinator's blob store, or a copy of one), if it is there and hashes right.</summary>
    public static async Task<byte[]?> FromFolderAsync(string folder, string sha256, CancellationToken cancellationToken)
    {
        foreach (var path in new[] { Path.Combine(folder, "blobs", sha256[..2], sha256[2..]), Path.Combine(folder, sha256[..2], sha256[2..]), Path.Combine(folder, sha256) })
        {
            if (File.Exists(path))
            {
                var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)) == sha256 ? bytes : null;
            }
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await Ledger.DisposeAsync();
        Blobs.Dispose();
        Index.Dispose();
    }
}
