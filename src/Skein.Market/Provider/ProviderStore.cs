using Dapper;
using Microsoft.Data.Sqlite;
using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>
/// What a provider must keep across its own restarts, in SQLite (WAL): the manifests tenants sent (they hold
/// secrets: the file is created readable by its owner only) and the workloads it started for each lease.
/// </summary>
public sealed class ProviderStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public ProviderStore(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "provider.db");
        var fresh = !File.Exists(path);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        if (fresh && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        _db.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS manifests (owner TEXT NOT NULL, dseq INTEGER NOT NULL, hash TEXT NOT NULL, json TEXT NOT NULL, received_ms INTEGER NOT NULL,
                PRIMARY KEY (owner, dseq));
            CREATE TABLE IF NOT EXISTS workloads (id TEXT PRIMARY KEY, lease TEXT NOT NULL, service TEXT NOT NULL, instance INTEGER NOT NULL, restarts INTEGER NOT NULL DEFAULT 0,
                stopped INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS workloads_lease ON workloads(lease);
            CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, lease TEXT NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_lease ON events(lease, seq);
            """);
    }

    public void PutManifest(DeploymentId id, Hash32 hash, string json, long nowMs)
    {
        lock (_lock)
        {
            _db.Execute("INSERT OR REPLACE INTO manifests (owner, dseq, hash, json, received_ms) VALUES (@owner, @dseq, @hash, @json, @now)",
                new { owner = id.Owner.ToString(), dseq = (long)id.Dseq, hash = hash.ToString(), json, now = nowMs });
        }
    }

    public (Hash32 Hash, string Json)? Manifest(DeploymentId id)
    {
        lock (_lock)
        {
            var row = _db.QuerySingleOrDefault<(string Hash, string Json)?>("SELECT hash, json FROM manifests WHERE owner = @owner AND dseq = @dseq",
                new { owner = id.Owner.ToString(), dseq = (long)id.Dseq });
            return row is { } r ? (Hash32.Parse(r.Hash), r.Json) : null;
        }
    }

    public void AddWorkload(string id, LeaseId lease, string service, int instance)
    {
        lock (_lock)
        {
            _db.Execute("INSERT OR IGNORE INTO workloads (id, lease, service, instance) VALUES (@id, @lease, @service, @instance)",
                new { id, lease = lease.ToString(), service, instance });
        }
    }

    public IReadOnlyList<StoredWorkload> Workloads(LeaseId? lease = null)
    {
        lock (_lock)
        {
            var rows = lease is { } l
                ? _db.Query<StoredWorkload>("SELECT id AS Id, lease AS Lease, service AS Service, instance AS Instance, restarts AS Restarts, stopped AS Stopped FROM workloads WHERE lease = @lease ORDER BY service, instance", new { lease = l.ToString() })
                : _db.Query<StoredWorkload>("SELECT id AS Id, lease AS Lease, service AS Service, instance AS Instance, restarts AS Restarts, stopped AS Stopped FROM workloads ORDER BY lease, service, instance");
            return rows.ToArray();
        }
    }

    public void CountRestart(string id)
    {
        lock (_lock)
        {
            _db.Execute("UPDATE workloads SET restarts = restarts + 1 WHERE id = @id", new { id });
        }
    }

    public void MarkStopped(string id)
    {
        lock (_lock)
        {
            _db.Execute("UPDATE workloads SET stopped = 1 WHERE id = @id", new { id });
        }
    }

    /// <summary>Records what happened to a lease (manifest in, workload started, restarted, stopped, given up), for its tenant.</summary>
    public void AddEvent(LeaseId lease, long atMs, string kind, string message)
    {
        lock (_lock)
        {
            _db.Execute("INSERT INTO events (lease, at_ms, kind, message) VALUES (@lease, @at, @kind, @message)",
                new { lease = lease.ToString(), at = atMs, kind, message });
        }
    }

    /// <summary>The last <paramref name="limit"/> events of a lease, oldest first.</summary>
    public IReadOnlyList<LeaseEvent> Events(LeaseId lease, int limit = 50)
    {
        lock (_lock)
        {
            return _db.Query<(long AtMs, string Kind, string Message)>(
                    "SELECT at_ms, kind, message FROM (SELECT seq, at_ms, kind, message FROM events WHERE lease = @lease ORDER BY seq DESC LIMIT @limit) ORDER BY seq",
                    new { lease = lease.ToString(), limit })
                .Select(e => new LeaseEvent(DateTimeOffset.FromUnixTimeMilliseconds(e.AtMs), e.Kind, e.Message)).ToArray();
        }
    }

    public void Dispose() => _db.Dispose();
}

/// <summary>One thing that happened to a lease on its provider: when, what kind (manifest, started, restarted, stopped, closed), and how.</summary>
public sealed record LeaseEvent(DateTimeOffset At, string Kind, string Message);

/// <summary>A workload the provider started for a lease, as stored.</summary>
public sealed record StoredWorkload(string Id, string Lease, string Service, long Instance, long Restarts, long Stopped)
{
    public LeaseId LeaseId => Skein.Ledger.Market.LeaseId.Parse(Lease);
}
