using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Skein.Core;
using Skein.Learning.Language;

namespace Skein.Learning.Registry;

/// <summary>The bytes of a registered model's file, verified against its hash, or why they could not be read.</summary>
public sealed record ModelFileResult(byte[]? Bytes, string? Error)
{
    public bool Ok => Bytes is not null;
}

/// <summary>
/// Models by content hash: a SQLite database (WAL) of entries and lineage, and the safetensors files under
/// <c>files/HASH.safetensors</c>. All state is in those two, so a registry reopened after a crash or a restart
/// sees every model it had. A file is written (to a temporary name, then renamed) before its row, so a crash
/// leaves at most an unreferenced file.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    /// <summary>The shortest hash prefix a user may type for a hash.</summary>
    public const int MinimumPrefix = 8;

    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;

    /// <summary>Opens (creating if needed) the registry in <paramref name="directory"/>.</summary>
    public ModelRegistry(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
        _time = time ?? TimeProvider.System;
        System.IO.Directory.CreateDirectory(FilesDirectory);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "registry.db"), Pooling = false }.ToString());
        _db.Open();
        _db.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS models (
                hash TEXT PRIMARY KEY, architecture TEXT NOT NULL,
                layers INTEGER NOT NULL, heads INTEGER NOT NULL, width INTEGER NOT NULL, context INTEGER NOT NULL,
                vocabulary INTEGER NOT NULL DEFAULT 256, kind TEXT NOT NULL, parent TEXT REFERENCES models(hash), task_id INTEGER, round INTEGER,
                contributors TEXT NOT NULL, description TEXT NOT NULL, created_at TEXT NOT NULL, size INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS models_parent ON models(parent);
            """);
        // Registries made before imported (BPE) models existed held byte-level models only.
        if (!_db.Query<string>("SELECT name FROM pragma_table_info('models')").Contains("vocabulary"))
        {
            _db.Execute("ALTER TABLE models ADD COLUMN vocabulary INTEGER NOT NULL DEFAULT 256");
        }
    }

    /// <summary>The folder holding <c>registry.db</c> and <c>files/</c>.</summary>
    public string Directory { get; }

    public string FilesDirectory => Path.Combine(Directory, "files");

    /// <summary>The registry in the per-user data folder: <c>DATA_DIR/models</c>.</summary>
    public static string DefaultDirectory(string dataDirectory) => Path.Combine(dataDirectory, "models");

    public static string ArchitectureName(TransformerConfig config) =>
        config == TransformerConfig.Tiny ? "transformer-tiny" : config == TransformerConfig.Small ? "transformer-small" : "transformer-custom";

    public string PathOf(string hash) => Path.Combine(FilesDirectory, hash + ".safetensors");

    /// <summary>
    /// Registers <paramref name="safetensors"/> under its SHA-256. Idempotent: a hash already registered returns
    /// the existing entry (restoring its file if it went missing or was altered). Refused: an unregistered
    /// parent, a parent equal to the model itself, bytes that are not safetensors or (for a full model) do not
    /// fit the architecture.
    /// </summary>
    public RegistryResult Put(ReadOnlySpan<byte> safetensors, ModelRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var hash = Hashing.Sha256Hex(safetensors);
        if (Check(safetensors, registration, hash) is { } error)
        {
            return RegistryResult.Refused(error);
        }
        lock (_gate)
        {
            var existing = GetExact(hash);
            if (existing is null || !FileMatches(hash))
            {
                WriteFile(hash, safetensors);
            }
            if (existing is not null)
            {
                return RegistryResult.Success(existing);
            }
            _db.Execute("""
                INSERT INTO models (hash, architecture, layers, heads, width, context, vocabulary, kind, parent, task_id, round, contributors, description, created_at, size)
                VALUES (@hash, @architecture, @layers, @heads, @width, @context, @vocabulary, @kind, @parent, @task, @round, @contributors, @description, @created, @size)
                """,
                new
                {
                    hash,
                    architecture = registration.Architecture,
                    layers = registration.Config.Layers,
                    heads = registration.Config.Heads,
                    width = registration.Config.Width,
                    context = registration.Config.Context,
                    vocabulary = registration.Config.Vocabulary,
                    kind = KindName(registration.Kind),
                    parent = registration.Parent,
                    task = registration.TaskId is { } t ? (long?)checked((long)t) : null,
                    round = registration.Round is { } r ? (long?)r : null,
                    contributors = JsonSerializer.Serialize(registration.Contributors),
                    description = registration.Description,
                    created = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
                    size = (long)safetensors.Length,
                });
            return RegistryResult.Success(GetExact(hash)!);
        }
    }

    /// <summary>The entry of a full hash, or null.</summary>
    public ModelEntry? Get(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        lock (_gate)
        {
            return GetExact(hash.ToLowerInvariant());
        }
    }

    /// <summary>The entry of a full hash or of a unique prefix of at least <see cref="MinimumPrefix"/> hex digits.</summary>
    public RegistryResult Resolve(string hashOrPrefix)
    {
        ArgumentNullException.ThrowIfNull(hashOrPrefix);
        var key = hashOrPrefix.Trim().ToLowerInvariant();
        if (key.Length < MinimumPrefix || key.Length > 64 || !key.All(char.IsAsciiHexDigitLower))
        {
            return RegistryResult.Refused($"'{hashOrPrefix}' is not a model hash: give the 64 hex digits of its SHA-256 or a unique prefix of at least {MinimumPrefix}");
        }
        lock (_gate)
        {
            var matches = _db.Query<string>("SELECT hash FROM models WHERE substr(hash, 1, @n) = @key LIMIT 2", new { n = key.Length, key }).ToList();
            return matches.Count switch
            {
                0 => RegistryResult.Refused($"no model with hash {(key.Length == 64 ? key : key + "...")} is registered in {Directory}"),
                > 1 => RegistryResult.Refused($"hash prefix {key} matches several models: give more digits"),
                _ => RegistryResult.Success(GetExact(matches[0])!),
            };
        }
    }

    /// <summary>Every entry, oldest first.</summary>
    public IReadOnlyList<ModelEntry> List()
    {
        lock (_gate)
        {
            return _db.Query<Row>($"{SelectRows} ORDER BY created_at, hash").Select(r => r.ToEntry()).ToList();
        }
    }

    /// <summary>The model and its ancestors, from <paramref name="hash"/> back to its root (empty if unknown).</summary>
    public IReadOnlyList<ModelEntry> Lineage(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        var chain = new List<ModelEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        lock (_gate)
        {
            for (var next = GetExact(hash.ToLowerInvariant()); next is not null && seen.Add(next.Hash); next = next.Parent is { } p ? GetExact(p) : null)
            {
                chain.Add(next);
            }
        }
        return chain;
    }

    /// <summary>The model's file, refused if it is missing or its SHA-256 no longer matches the hash it is named by.</summary>
    public ModelFileResult ReadFile(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        var path = PathOf(hash);
        if (!File.Exists(path))
        {
            return new ModelFileResult(null, $"model file {path} is missing");
        }
        var bytes = File.ReadAllBytes(path);
        var actual = Hashing.Sha256Hex(bytes);
        return actual == hash
            ? new ModelFileResult(bytes, null)
            : new ModelFileResult(null, $"model file {path} has SHA-256 {actual}, not the {hash} it is named by: it was altered or corrupted");
    }

    public void Dispose() => _db.Dispose();

    private string? Check(ReadOnlySpan<byte> safetensors, ModelRegistration registration, string hash)
    {
        if (registration.Config.Validate() is { } configError)
        {
            return $"architecture: {configError}";
        }
        if (registration.Contributors.Any(string.IsNullOrWhiteSpace))
        {
            return "contributors: a contributor is empty";
        }
        if (registration.Parent is { } parent)
        {
            if (parent == hash)
            {
                return $"parent: {parent} is the model itself";
            }
            if (Get(parent) is null)
            {
                return $"parent: {parent} is not a registered model; register the parent first";
            }
        }
        else if (registration.Kind is ModelKind.Adapter or ModelKind.Merged)
        {
            return $"parent: a model of kind {KindName(registration.Kind)} needs the hash of the model it was made from";
        }
        try
        {
            var document = SafeTensors.Parse(safetensors);
            if (registration.Kind != ModelKind.Adapter)
            {
                registration.Config.Layout().FromSafeTensors(document);
            }
        }
        catch (SafeTensorsFormatException ex)
        {
            return $"file: not a {registration.Architecture} model in safetensors format: {ex.Message}";
        }
        return null;
    }

    private bool FileMatches(string hash) => File.Exists(PathOf(hash)) && Hashing.Sha256Hex(File.ReadAllBytes(PathOf(hash))) == hash;

    private void WriteFile(string hash, ReadOnlySpan<byte> bytes)
    {
        var path = PathOf(hash);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private ModelEntry? GetExact(string hash) => _db.QuerySingleOrDefault<Row>($"{SelectRows} WHERE hash = @hash", new { hash })?.ToEntry();

    internal static string KindName(ModelKind kind) => kind.ToString().ToLowerInvariant();

    private const string SelectRows =
        "SELECT hash, architecture, layers, heads, width, context, vocabulary, kind, parent, task_id AS TaskId, round, contributors, description, created_at AS CreatedAt, size FROM models";

    private sealed record Row(string Hash, string Architecture, long Layers, long Heads, long Width, long Context, long Vocabulary, string Kind, string? Parent,
        long? TaskId, long? Round, string Contributors, string Description, string CreatedAt, long Size)
    {
        public ModelEntry ToEntry() => new(Hash, Architecture, new TransformerConfig((int)Layers, (int)Heads, (int)Width, (int)Context, (int)Vocabulary),
            Enum.Parse<ModelKind>(Kind, ignoreCase: true), Parent, TaskId is { } t ? (ulong)t : null, Round is { } r ? (uint)r : null,
            JsonSerializer.Deserialize<string[]>(Contributors) ?? [], Description,
            DateTimeOffset.Parse(CreatedAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), Size);
    }
}
