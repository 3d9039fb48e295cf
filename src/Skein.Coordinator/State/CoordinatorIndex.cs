using Dapper;
using Microsoft.Data.Sqlite;

namespace Skein.Coordinator.State;

/// <summary>A task this coordinator runs: its ledger id, spec and the hash of its initial model.</summary>
public sealed record HostedTask(long TaskId, string SpecJson, string InitialModel);

/// <summary>An update upload: who sends it for which round, what it declared, and how it ended.</summary>
public sealed record UploadRecord(string UploadId, long TaskId, long Round, string Trainer, string Sha256, long Size, string State, string? Reason);

/// <summary>
/// What the coordinator must remember across restarts besides the ledger and the blobs: the specs of the tasks it
/// hosts and which trainer uploaded which update for which round. SQLite in WAL mode.
/// </summary>
public sealed class CoordinatorIndex : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();

    public CoordinatorIndex(string path)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        _db.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS tasks (task_id INTEGER PRIMARY KEY, spec_json TEXT NOT NULL, initial_model TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS uploads (
                upload_id TEXT PRIMARY KEY, task_id INTEGER NOT NULL, round INTEGER NOT NULL, trainer TEXT NOT NULL,
                sha256 TEXT NOT NULL, size INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT);
            CREATE INDEX IF NOT EXISTS uploads_round ON uploads(task_id, round, trainer);
            CREATE TABLE IF NOT EXISTS metrics (task_id INTEGER NOT NULL, round INTEGER NOT NULL, accuracy REAL NOT NULL, loss REAL NOT NULL,
                PRIMARY KEY (task_id, round));
            """);
    }

    /// <summary>Records the test accuracy and loss of a round's new global model (see <c>--eval-data</c>).</summary>
    public void PutMetric(ulong taskId, uint round, double accuracy, double loss)
    {
        lock (_gate)
        {
            _db.Execute("INSERT OR REPLACE INTO metrics (task_id, round, accuracy, loss) VALUES (@task, @round, @accuracy, @loss)",
                new { task = (long)taskId, round = (long)round, accuracy, loss = double.IsFinite(loss) ? loss : double.MaxValue });
        }
    }

    /// <summary>Every evaluated round of a task from <paramref name="fromRound"/> on: round -> (accuracy, loss).</summary>
    public IReadOnlyDictionary<uint, (double Accuracy, double Loss)> Metrics(ulong taskId, uint fromRound = 1)
    {
        lock (_gate)
        {
            return _db.Query<(long Round, double Accuracy, double Loss)>("SELECT round, accuracy, loss FROM metrics WHERE task_id = @task AND round >= @from",
                    new { task = (long)taskId, from = (long)fromRound })
                .ToDictionary(m => (uint)m.Round, m => (m.Accuracy, m.Loss == double.MaxValue ? double.NaN : m.Loss));
        }
    }

    /// <summary>The newest round of a task with a metric (0: none yet).</summary>
    public uint LastMetricRound(ulong taskId)
    {
        lock (_gate)
        {
            return (uint)_db.ExecuteScalar<long>("SELECT COALESCE(MAX(round), 0) FROM metrics WHERE task_id = @task", new { task = (long)taskId });
        }
    }

    public void AddTask(HostedTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        lock (_gate)
        {
            _db.Execute("INSERT INTO tasks (task_id, spec_json, initial_model) VALUES (@TaskId, @SpecJson, @InitialModel)", task);
        }
    }

    public IReadOnlyList<HostedTask> Tasks()
    {
        lock (_gate)
        {
            return _db.Query<HostedTask>("SELECT task_id AS TaskId, spec_json AS SpecJson, initial_model AS InitialModel FROM tasks ORDER BY task_id").ToArray();
        }
    }

    /// <summary>One hosted task; a hosted task never changes, so it is read once (every upload asks).</summary>
    public HostedTask? Task(ulong taskId)
    {
        if (_hosted.TryGetValue(taskId, out var cached))
        {
            return cached;
        }
        lock (_gate)
        {
            var task = _db.QuerySingleOrDefault<HostedTask>("SELECT task_id AS TaskId, spec_json AS SpecJson, initial_model AS InitialModel FROM tasks WHERE task_id = @id", new { id = (long)taskId });
            return task is null ? null : _hosted.GetOrAdd(taskId, task);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, HostedTask> _hosted = new();

    public void BeginUpload(UploadRecord upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        lock (_gate)
        {
            _db.Execute("""
                INSERT INTO uploads (upload_id, task_id, round, trainer, sha256, size, state, reason)
                VALUES (@UploadId, @TaskId, @Round, @Trainer, @Sha256, @Size, @State, @Reason)
                ON CONFLICT(upload_id) DO NOTHING
                """, upload);
        }
    }

    public UploadRecord? Upload(string uploadId)
    {
        lock (_gate)
        {
            return _db.QuerySingleOrDefault<UploadRecord>(
                "SELECT upload_id AS UploadId, task_id AS TaskId, round AS Round, trainer AS Trainer, sha256 AS Sha256, size AS Size, state AS State, reason AS Reason FROM uploads WHERE upload_id = @uploadId",
                new { uploadId });
        }
    }

    /// <summary>Records how an upload ended; <paramref name="sha256"/> is its hash when it declared one only at its end.</summary>
    public void Finish(string uploadId, string state, string? reason = null, string? sha256 = null)
    {
        lock (_gate)
        {
            _db.Execute("UPDATE uploads SET state = @state, reason = @reason, sha256 = COALESCE(@sha256, sha256) WHERE upload_id = @uploadId", new { uploadId, state, reason, sha256 });
        }
    }

    /// <summary>The completed, validated upload of this trainer with this hash for the round, if there is one.</summary>
    public bool HasValidUpload(ulong taskId, uint round, string trainer, string sha256)
    {
        lock (_gate)
        {
            return _db.ExecuteScalar<long>(
                "SELECT COUNT(*) FROM uploads WHERE task_id = @taskId AND round = @round AND trainer = @trainer AND sha256 = @sha256 AND state = 'valid'",
                new { taskId = (long)taskId, round = (long)round, trainer, sha256 }) > 0;
        }
    }

    public void Dispose() => _db.Dispose();
}
