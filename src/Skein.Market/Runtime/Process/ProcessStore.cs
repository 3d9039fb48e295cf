using Dapper;
using Microsoft.Data.Sqlite;

namespace Skein.Market.Runtime;

/// <summary>What the process runtime remembers of one workload. Times are Unix milliseconds; lists are comma- or newline-joined.</summary>
internal sealed record WorkloadRow(
    string Id,
    string Service,
    string Image,
    string State,
    long? Pid,
    long? PidStart,
    long? StartedAtMs,
    long? StoppedAtMs,
    long? ExitCode,
    string Cores,
    string Gpus,
    string? Cgroup,
    string Notes,
    string? Error,
    long StopRequested,
    string? LimitCgroups = null)
{
    /// <summary>The cgroup v1 folders that hold the workload's memory and cpu limits (where v2 lacks those controllers).</summary>
    public IReadOnlyList<string> LimitCgroupList => string.IsNullOrEmpty(LimitCgroups) ? [] : LimitCgroups.Split(':');

    public WorkloadState WorkloadState => Enum.Parse<WorkloadState>(State);

    public IReadOnlyList<string> NoteList => Notes.Length == 0 ? [] : Notes.Split('\n');

    public bool IsLive => WorkloadState is WorkloadState.Starting or WorkloadState.Running;
}

/// <summary>
/// The process runtime's state in SQLite (WAL), so a restarted provider finds its workloads again. The spec, which
/// holds the env and so the tenant's secrets, is not here: it lives in a 0600 file in the workload's folder.
/// </summary>
internal sealed class ProcessStore : IDisposable
{
    private const string Columns = """
        id AS Id, service AS Service, image AS Image, state AS State, pid AS Pid, pid_start AS PidStart,
        started_at_ms AS StartedAtMs, stopped_at_ms AS StoppedAtMs, exit_code AS ExitCode, cores AS Cores, gpus AS Gpus,
        cgroup AS Cgroup, notes AS Notes, error AS Error, stop_requested AS StopRequested, limit_cgroups AS LimitCgroups
        """;

    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();

    public ProcessStore(string path)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        _db.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA busy_timeout = 5000;
            CREATE TABLE IF NOT EXISTS workloads (
                id TEXT PRIMARY KEY, service TEXT NOT NULL, image TEXT NOT NULL, state TEXT NOT NULL,
                pid INTEGER, pid_start INTEGER, started_at_ms INTEGER, stopped_at_ms INTEGER, exit_code INTEGER,
                cores TEXT NOT NULL, gpus TEXT NOT NULL, cgroup TEXT, notes TEXT NOT NULL, error TEXT,
                stop_requested INTEGER NOT NULL DEFAULT 0);
            """);
        // State written before the v1 limits existed has no column for them.
        if (!_db.Query<string>("SELECT name FROM pragma_table_info('workloads')").Contains("limit_cgroups", StringComparer.Ordinal))
        {
            _db.Execute("ALTER TABLE workloads ADD COLUMN limit_cgroups TEXT");
        }
    }

    public WorkloadRow? Get(string id)
    {
        lock (_gate)
        {
            return _db.QuerySingleOrDefault<WorkloadRow>($"SELECT {Columns} FROM workloads WHERE id = @id", new { id });
        }
    }

    public IReadOnlyList<WorkloadRow> All()
    {
        lock (_gate)
        {
            return _db.Query<WorkloadRow>($"SELECT {Columns} FROM workloads ORDER BY id").ToArray();
        }
    }

    public void Put(WorkloadRow row)
    {
        lock (_gate)
        {
            _db.Execute("""
                INSERT INTO workloads (id, service, image, state, pid, pid_start, started_at_ms, stopped_at_ms, exit_code, cores, gpus, cgroup, notes, error, stop_requested, limit_cgroups)
                VALUES (@Id, @Service, @Image, @State, @Pid, @PidStart, @StartedAtMs, @StoppedAtMs, @ExitCode, @Cores, @Gpus, @Cgroup, @Notes, @Error, @StopRequested, @LimitCgroups)
                ON CONFLICT(id) DO UPDATE SET service = excluded.service, image = excluded.image, state = excluded.state,
                    pid = excluded.pid, pid_start = excluded.pid_start, started_at_ms = excluded.started_at_ms,
                    stopped_at_ms = excluded.stopped_at_ms, exit_code = excluded.exit_code, cores = excluded.cores,
                    gpus = excluded.gpus, cgroup = excluded.cgroup, notes = excluded.notes, error = excluded.error,
                    stop_requested = excluded.stop_requested, limit_cgroups = excluded.limit_cgroups
                """, row);
        }
    }

    public void Delete(string id)
    {
        lock (_gate)
        {
            _db.Execute("DELETE FROM workloads WHERE id = @id", new { id });
        }
    }

    public void Dispose() => _db.Dispose();
}
