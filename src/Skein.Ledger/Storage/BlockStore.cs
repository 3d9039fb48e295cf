using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Storage;

/// <summary>
/// The chain on disk: genesis, block headers and transactions in SQLite (WAL). A block and its transactions are
/// written in one SQLite transaction, so a process killed at any point leaves either the whole block or none of it.
/// </summary>
public sealed class BlockStore : IDisposable
{
    private readonly SqliteConnection _connection;

    private BlockStore(SqliteConnection connection) => _connection = connection;

    public string Path { get; private init; } = "";

    public static async Task<BlockStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        // WAL: readers never block the writer; synchronous=NORMAL keeps every committed block across a process
        // kill (the WAL is written before commit returns), trading only an OS crash's last commits for speed.
        await connection.ExecuteAsync("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA foreign_keys = ON;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS blocks (
                height INTEGER PRIMARY KEY,
                hash BLOB NOT NULL UNIQUE,
                previous_hash BLOB NOT NULL,
                timestamp INTEGER NOT NULL,
                tx_root BLOB NOT NULL,
                state_root BLOB NOT NULL,
                tx_count INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS transactions (
                id BLOB PRIMARY KEY,
                height INTEGER NOT NULL REFERENCES blocks(height),
                idx INTEGER NOT NULL,
                sender TEXT NOT NULL,
                nonce INTEGER NOT NULL,
                type TEXT NOT NULL,
                body TEXT NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS transactions_order ON transactions(height, idx);
            CREATE INDEX IF NOT EXISTS transactions_sender ON transactions(sender, nonce);
            """);
        return new BlockStore(connection) { Path = path };
    }

    public async Task<Genesis?> ReadGenesisAsync(CancellationToken cancellationToken = default)
    {
        var json = await _connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT value FROM meta WHERE key = 'genesis'", cancellationToken: cancellationToken));
        return json is null ? null : GenesisJson.Deserialize(json);
    }

    /// <summary>Writes the genesis and its block (height 0) in one transaction.</summary>
    public async Task InitializeAsync(Genesis genesis, BlockHeader genesisBlock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(genesisBlock);
        await using var tx = await _connection.BeginTransactionAsync(cancellationToken);
        await _connection.ExecuteAsync(new CommandDefinition("INSERT INTO meta (key, value) VALUES ('genesis', @json)",
            new { json = GenesisJson.Serialize(genesis) }, tx, cancellationToken: cancellationToken));
        await InsertHeaderAsync(genesisBlock, (SqliteTransaction)tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Writes a block with its transactions (whose ids, in order, are <paramref name="ids"/>) atomically.</summary>
    public async Task AppendAsync(Block block, IReadOnlyList<Hash32> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(ids);
        await using var tx = await _connection.BeginTransactionAsync(cancellationToken);
        await InsertHeaderAsync(block.Header, (SqliteTransaction)tx, cancellationToken);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var t = block.Transactions[i];
            await _connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO transactions (id, height, idx, sender, nonce, type, body) VALUES (@id, @height, @idx, @sender, @nonce, @type, @body)",
                new
                {
                    id = ids[i].Bytes.ToArray(),
                    height = (long)block.Header.Height,
                    idx = i,
                    sender = t.Tx.From.ToLowerHex(),
                    nonce = (long)t.Tx.Nonce,
                    type = t.Tx.TypeName,
                    body = t.ToJson(),
                }, tx, cancellationToken: cancellationToken));
        }
        await tx.CommitAsync(cancellationToken);
    }

    public async Task<ulong?> HeadHeightAsync(CancellationToken cancellationToken = default) =>
        (ulong?)await _connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition("SELECT MAX(height) FROM blocks", cancellationToken: cancellationToken));

    public async Task<BlockHeader?> ReadHeaderAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var row = await _connection.QuerySingleOrDefaultAsync<HeaderRow>(new CommandDefinition(
            "SELECT height, hash, previous_hash AS PreviousHash, timestamp, tx_root AS TxRoot, state_root AS StateRoot, tx_count AS TxCount FROM blocks WHERE height = @height",
            new { height = (long)height }, cancellationToken: cancellationToken));
        return row?.ToHeader();
    }

    /// <summary>The stored hash of a block, to compare with the hash its header recomputes to.</summary>
    public async Task<Hash32?> ReadStoredHashAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var bytes = await _connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition(
            "SELECT hash FROM blocks WHERE height = @height", new { height = (long)height }, cancellationToken: cancellationToken));
        return bytes is null ? null : new Hash32(bytes);
    }

    public async Task<IReadOnlyList<SignedTransaction>> ReadTransactionsAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var bodies = await _connection.QueryAsync<string>(new CommandDefinition(
            "SELECT body FROM transactions WHERE height = @height ORDER BY idx", new { height = (long)height }, cancellationToken: cancellationToken));
        return bodies.Select(SignedTransaction.FromJson).ToArray();
    }

    public async Task<(SignedTransaction Tx, ulong Height, int Index)?> FindTransactionAsync(Hash32 id, CancellationToken cancellationToken = default)
    {
        var row = await _connection.QuerySingleOrDefaultAsync<TxRow>(new CommandDefinition(
            "SELECT body, height, idx FROM transactions WHERE id = @id", new { id = id.Bytes.ToArray() }, cancellationToken: cancellationToken));
        return row is null ? null : (SignedTransaction.FromJson(row.Body), (ulong)row.Height, (int)row.Idx);
    }

    /// <summary>Reads every block from <paramref name="from"/> on, header and transactions, in height order.</summary>
    public async IAsyncEnumerable<(BlockHeader Header, Hash32 StoredHash, IReadOnlyList<SignedTransaction> Transactions)> ReadBlocksAsync(
        ulong from, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var head = await HeadHeightAsync(cancellationToken) ?? 0;
        for (var h = from; h <= head; h++)
        {
            var header = await ReadHeaderAsync(h, cancellationToken) ?? throw new LedgerException(LedgerError.CorruptStore, $"block {h} is missing below the head {head}");
            var stored = await ReadStoredHashAsync(h, cancellationToken) ?? header.Hash;
            yield return (header, stored, header.TxCount == 0 ? [] : await ReadTransactionsAsync(h, cancellationToken));
        }
    }

    /// <summary>Overwrites raw columns of a stored block; only for tests that prove verification catches tampering.</summary>
    internal Task<int> TamperAsync(string sql, object parameters) => _connection.ExecuteAsync(sql, parameters);

    public void Dispose() => _connection.Dispose();

    private Task<int> InsertHeaderAsync(BlockHeader h, SqliteTransaction tx, CancellationToken cancellationToken) =>
        _connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO blocks (height, hash, previous_hash, timestamp, tx_root, state_root, tx_count) VALUES (@height, @hash, @prev, @time, @txRoot, @stateRoot, @count)",
            new
            {
                height = (long)h.Height,
                hash = h.Hash.Bytes.ToArray(),
                prev = h.PreviousHash.Bytes.ToArray(),
                time = h.Timestamp,
                txRoot = h.TxRoot.Bytes.ToArray(),
                stateRoot = h.StateRoot.Bytes.ToArray(),
                count = h.TxCount,
            }, tx, cancellationToken: cancellationToken));

    private sealed record TxRow(string Body, long Height, long Idx);

    private sealed record HeaderRow(long Height, byte[] Hash, byte[] PreviousHash, long Timestamp, byte[] TxRoot, byte[] StateRoot, long TxCount)
    {
        public BlockHeader ToHeader() => new((ulong)Height, new Hash32(PreviousHash), Timestamp, new Hash32(TxRoot), new Hash32(StateRoot), (int)TxCount);
    }
}

/// <summary>The JSON form of a genesis, as stored with the chain and as `skein ledger init` reads it (fields: docs/genesis.md).</summary>
public static partial class GenesisJson
{
    public static string Serialize(Genesis genesis) => JsonSerializer.Serialize(genesis, SignedTransaction.JsonOptions);

    /// <summary>
    /// Reads a genesis; anything that is not one is refused with a <see cref="JsonException"/> whose message starts
    /// with the field, as <c>genesis.allocations[1].balance: ...</c>, the way task specs name theirs.
    /// </summary>
    public static Genesis Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        CheckAddresses(json);
        try
        {
            return JsonSerializer.Deserialize<Genesis>(json, StrictOptions) ?? throw new JsonException("genesis: the file holds null, not a genesis object");
        }
        catch (JsonException ex) when (MissingFields().Match(ex.Message) is { Success: true } missing)
        {
            var names = missing.Groups[1].Value.Split(", ").Select(n => n.Trim('\'')).ToArray();
            throw new JsonException($"{Field(ex.Path)}.{names[0]}: required (see docs/genesis.md for the fields)", ex.Path, ex.LineNumber, ex.BytePositionInLine, ex);
        }
        catch (JsonException ex) when (!ex.Message.StartsWith("genesis", StringComparison.Ordinal))
        {
            var field = Field(ex.Path);
            var reason = ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? "unknown field (see docs/genesis.md for the fields)"
                : ex.Message.Split(" Path: ", 2)[0];
            throw new JsonException($"{field}: {reason}", ex.Path, ex.LineNumber, ex.BytePositionInLine, ex);
        }
    }

    /// <summary>The ledger's JSON settings, plus: a field the rules need may not be left out or null.</summary>
    private static readonly JsonSerializerOptions StrictOptions = new(SignedTransaction.JsonOptions)
    {
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    [System.Text.RegularExpressions.GeneratedRegex("missing required properties including: (.+)\\.")]
    private static partial System.Text.RegularExpressions.Regex MissingFields();

    // "$.allocations[0].balance" -> "genesis.allocations[0].balance"
    private static string Field(string? path) => string.IsNullOrEmpty(path) || path == "$" ? "genesis" : "genesis" + path[1..];

    /// <summary>Addresses first: their parser says what is wrong but not where, and a file has many.</summary>
    private static void CheckAddresses(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new JsonException($"genesis: not JSON: {ex.Message}", ex.Path, ex.LineNumber, ex.BytePositionInLine, ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("allocations", out var allocations) || allocations.ValueKind != JsonValueKind.Array)
            {
                return;
            }
            var i = 0;
            foreach (var allocation in allocations.EnumerateArray())
            {
                if (allocation.ValueKind == JsonValueKind.Object && allocation.TryGetProperty("address", out var address)
                    && (address.ValueKind != JsonValueKind.String || !Address.TryParse(address.GetString(), out _, out _)))
                {
                    throw new JsonException($"genesis.allocations[{i}].address: {address.GetRawText()} is not an address (0x followed by 40 hex digits)", $"$.allocations[{i}].address", null, null);
                }
                i++;
            }
        }
    }
}
