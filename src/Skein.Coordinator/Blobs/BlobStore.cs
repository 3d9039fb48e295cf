using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Skein.Core;

namespace Skein.Coordinator.Blobs;

/// <summary>
/// Content-addressed storage of models and updates under their SHA-256, filled by resumable chunked uploads whose
/// hash and size are declared up front and checked before the blob becomes visible.
/// </summary>
/// <remarks>
/// Layout: <c>blobs/ab/cdef…</c> (the first two hex digits as a folder, so no folder grows to millions of entries),
/// and <c>uploads/&lt;id&gt;.part</c> with <c>uploads/&lt;id&gt;.json</c> for each upload in progress. All state lives
/// in those files, so a new instance on the same root, after a restart, resumes where the old one stopped. A blob
/// is only ever created by renaming a complete, verified file into place: a reader never sees a partial blob.
/// </remarks>
public sealed class BlobStore : IDisposable
{
    private const string PartExtension = ".part";
    private const string ManifestExtension = ".json";

    /// <summary>Bytes received between background flushes of a streamed upload.</summary>
    private const long BackgroundFlushBytes = 1 << 20;

    private readonly string _blobs;
    private readonly string _uploads;
    private readonly string _quarantine;
    private readonly ConcurrentDictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);

    // Serialises BeginUpload so that two identical requests at once resume one upload instead of opening two.
    private readonly SemaphoreSlim _beginGate = new(1, 1);

    // Guarded by _beginGate; entries may outlive their upload and are checked against the disk when found.
    private readonly Dictionary<ResumeKey, string> _resumable = [];
    private bool _resumableLoaded;

    public BlobStore(BlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Root);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBlobBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.EffectiveStaleUploadAge, TimeSpan.Zero);
        Options = options;
        var root = Path.GetFullPath(options.Root);
        _blobs = Path.Combine(root, "blobs");
        _uploads = Path.Combine(root, "uploads");
        _quarantine = Path.Combine(root, "quarantine");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_uploads);
    }

    public BlobStoreOptions Options { get; }

    public bool Exists(string sha256) => File.Exists(BlobPath(sha256));

    public long? SizeOf(string sha256) => SizeOfFile(BlobPath(sha256));

    /// <summary>
    /// Starts an upload of a blob with this SHA-256 and size, or resumes the one the same owner already began for
    /// them (the handle's offset is then the bytes received so far). If the blob is stored already, returns a handle
    /// with an empty id and <c>Offset == Size</c>: nothing to send.
    /// </summary>
    public async Task<UploadHandle> BeginUploadAsync(string sha256, long size, string owner, CancellationToken ct)
    {
        // Without a scope the hash must be declared now.
        BlobNames.CheckHash(sha256);
        return await BeginUploadAsync(sha256, size, owner, null, ct);
    }

    /// <summary>
    /// As <see cref="BeginUploadAsync(string, long, string, CancellationToken)"/>; with an empty
    /// <paramref name="sha256"/> the hash is declared when the upload completes, and <paramref name="scope"/> (e.g. a
    /// task and round) is what identifies the upload for resuming instead.
    /// </summary>
    public async Task<UploadHandle> BeginUploadAsync(string sha256, long size, string owner, string? scope, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        ArgumentNullException.ThrowIfNull(owner);
        var declared = sha256.Length != 0;
        var blobPath = declared ? BlobPath(sha256) : null;
        if (!declared && (string.IsNullOrEmpty(scope) || scope.Length > UploadManifest.MaxScopeLength))
        {
            throw new BlobException(BlobError.InvalidHash, $"sha256: an upload that declares its hash at the end needs a scope of 1 to {UploadManifest.MaxScopeLength} characters");
        }
        if (size < 0)
        {
            throw new BlobException(BlobError.InvalidSize, $"declared size {size} is negative");
        }
        if (size > Options.MaxBlobBytes)
        {
            throw new BlobException(BlobError.TooLarge, $"declared size {size} bytes exceeds the limit of {Options.MaxBlobBytes} bytes");
        }
        if (blobPath is not null && SizeOfFile(blobPath) is { } stored)
        {
            // One SHA-256, one content: a different size means the declaration is wrong, and an upload could only fail.
            return stored == size
                ? new UploadHandle("", sha256, size, size)
                : throw new BlobException(BlobError.HashMismatch, $"blob {sha256} is stored with {stored} bytes, but {size} bytes were declared");
        }

        await _beginGate.WaitAsync(ct);
        try
        {
            var key = new ResumeKey(sha256, declared ? null : scope, size, owner);
            if (FindResumable(key) is { } resumed)
            {
                return resumed;
            }
            var session = new UploadSession(BlobNames.NewUploadId(), _uploads, new UploadManifest(sha256, size, owner, DateTimeOffset.UtcNow, key.Scope));
            // The part file before the manifest: the manifest is what makes an upload visible, so it never points at nothing.
            File.OpenHandle(session.PartPath, FileMode.CreateNew, FileAccess.Write).Dispose();
            await WriteManifestAsync(session, ct);
            if (!_sessions.TryAdd(session.Id, session))
            {
                session.Dispose();
            }
            _resumable[key] = session.Id;
            return new UploadHandle(session.Id, sha256, size, 0);
        }
        finally
        {
            _beginGate.Release();
        }
    }

    /// <summary>
    /// Appends <paramref name="data"/> at <paramref name="offset"/>, which must equal the bytes received so far, and
    /// flushes it to disk before returning the new offset.
    /// </summary>
    public async Task<long> AppendAsync(string uploadId, long offset, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var session = GetSession(uploadId);
        await session.Gate.WaitAsync(ct);
        try
        {
            using var handle = OpenPart(session);
            var received = RandomAccess.GetLength(handle);
            CheckOffset(session, offset, received);
            CheckRoom(session, received, data.Length);
            if (data.IsEmpty)
            {
                return received;
            }
            await RandomAccess.WriteAsync(handle, data, received, ct);
            RandomAccess.FlushToDisk(handle);
            session.Track(received, data.Span);
            return received + data.Length;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>
    /// Appends a stream of chunks (a gRPC client stream) under the same rules, holding the upload's lock throughout;
    /// the data is flushed to disk once at the end, and also when the stream fails, so that what was written counts.
    /// Each chunk is written before the next is requested, so the producer may reuse its buffer.
    /// </summary>
    public async Task<long> AppendAsync(string uploadId, long offset, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var session = GetSession(uploadId);
        await session.Gate.WaitAsync(ct);
        try
        {
            using var handle = OpenPart(session);
            var received = RandomAccess.GetLength(handle);
            CheckOffset(session, offset, received);
            var position = received;
            var flushedTo = received;
            Task? flushing = null;
            try
            {
                await foreach (var chunk in chunks.WithCancellation(ct))
                {
                    CheckRoom(session, position, chunk.Length);
                    // A synchronous write: it only copies into the page cache, and an asynchronous one would cost a
                    // thread-pool hop per chunk.
                    RandomAccess.Write(handle, chunk.Span, position);
                    session.Track(position, chunk.Span);
                    position += chunk.Length;
                    // Flush in the background while more arrives, so that the flush the answer waits for at the end
                    // covers only the last stretch instead of the whole upload.
                    if (position - flushedTo >= BackgroundFlushBytes && flushing is not { IsCompleted: false })
                    {
                        if (flushing is not null)
                        {
                            await flushing;
                        }
                        flushedTo = position;
                        flushing = Task.Run(() => RandomAccess.FlushToDisk(handle), CancellationToken.None);
                    }
                }
            }
            finally
            {
                if (flushing is not null)
                {
                    await flushing;
                }
                // Also on failure: a client that resumes is told the part file's length, which must be on disk.
                if (position != received)
                {
                    RandomAccess.FlushToDisk(handle);
                }
            }
            return position;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>
    /// Checks that every declared byte arrived and that they hash to the declared SHA-256, then renames the part file
    /// into place. A hash mismatch discards the upload, since resending cannot fix it. Returns the hash.
    /// </summary>
    public Task<string> CompleteAsync(string uploadId, CancellationToken ct) => CompleteAsync(uploadId, null, ct);

    /// <summary>
    /// As <see cref="CompleteAsync(string, CancellationToken)"/>, for an upload that declares its hash now
    /// (<paramref name="sha256"/>); when the upload declared one when it began, a hash given here must equal it.
    /// </summary>
    public Task<string> CompleteAsync(string uploadId, string? sha256, CancellationToken ct) => CompleteAsync(uploadId, sha256, acceptReceived: false, ct);

    /// <summary>
    /// As <see cref="CompleteAsync(string, string, CancellationToken)"/>; with <paramref name="acceptReceived"/>, an
    /// upload that declared no hash at all is stored under the hash of what arrived, for a sender that compares
    /// the hash it is told with its own.
    /// </summary>
    public async Task<string> CompleteAsync(string uploadId, string? sha256, bool acceptReceived, CancellationToken ct)
    {
        var session = GetSession(uploadId);
        var manifest = session.Manifest;
        var declared = manifest.HashDeclared ? manifest.Sha256 : sha256 ?? "";
        if (declared.Length == 0 && acceptReceived)
        {
            await session.Gate.WaitAsync(ct);
            try
            {
                if (SizeOfFile(session.PartPath) is { } length)
                {
                    declared = session.HashIfCovering(length) ?? await Hashing.Sha256HexOfFileAsync(session.PartPath, ct);
                }
            }
            finally
            {
                session.Gate.Release();
            }
        }
        if (declared.Length == 0)
        {
            throw new BlobException(BlobError.InvalidHash, $"sha256: upload {uploadId} declared no hash when it began, so its completion must declare one");
        }
        BlobNames.CheckHash(declared);
        if (manifest.HashDeclared && sha256 is { Length: > 0 } && !string.Equals(sha256, manifest.Sha256, StringComparison.Ordinal))
        {
            throw new BlobException(BlobError.HashMismatch, $"sha256: upload {uploadId} began declaring {manifest.Sha256} and completes declaring {sha256}");
        }
        await session.Gate.WaitAsync(ct);
        try
        {
            var blobPath = BlobPath(declared);
            if (SizeOfFile(session.PartPath) is not { } received)
            {
                Forget(session);
                if (File.Exists(blobPath))
                {
                    // A repeated Complete, or a crash between the rename and the manifest's removal: the blob is in place.
                    TryDelete(session.ManifestPath);
                    return declared;
                }
                throw UnknownUpload(uploadId);
            }
            if (received != manifest.Size)
            {
                throw new BlobException(BlobError.Truncated, $"upload {uploadId}: received {received} bytes of the {manifest.Size} declared");
            }

            var actual = session.HashIfCovering(received) ?? await Hashing.Sha256HexOfFileAsync(session.PartPath, ct);
            if (!string.Equals(actual, declared, StringComparison.Ordinal))
            {
                Discard(session);
                throw new BlobException(
                    BlobError.HashMismatch,
                    $"upload {uploadId}: declared sha256 {declared}, but the {received} bytes received hash to {actual}; the upload is discarded");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
            MoveIntoPlace(session.PartPath, blobPath);
            // The manifest goes after the rename: a crash in between leaves a manifest whose blob exists, which a
            // repeated Complete and the stale-upload collector both clean up.
            TryDelete(session.ManifestPath);
            Forget(session);
            return declared;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>Deletes an upload in progress and what it received.</summary>
    public async Task AbortAsync(string uploadId, CancellationToken ct)
    {
        var session = GetSession(uploadId);
        await session.Gate.WaitAsync(ct);
        try
        {
            Discard(session);
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>
    /// Reads a blob from <paramref name="offset"/> in chunks of at most <paramref name="chunkSize"/> bytes (a gRPC
    /// server stream). A chunk is a view of one pooled buffer and is valid only until the next one is requested.
    /// Unknown hashes fail here, before enumeration.
    /// </summary>
    public IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(string sha256, long offset, int chunkSize, CancellationToken ct)
    {
        var path = BlobPath(sha256);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        var size = SizeOfFile(path) ?? throw NotFound(sha256);
        if (offset < 0 || offset > size)
        {
            throw new BlobException(BlobError.WrongOffset, $"offset {offset} is outside blob {sha256} of {size} bytes");
        }
        return ReadChunksAsync(sha256, path, offset, size, chunkSize, ct);
    }

    public async Task<byte[]> ReadAllAsync(string sha256, CancellationToken ct)
    {
        var path = BlobPath(sha256);
        try
        {
            return await File.ReadAllBytesAsync(path, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(sha256);
        }
    }

    /// <summary>Stores bytes directly (the coordinator's own models) and returns their hash; storing the same bytes again does nothing.</summary>
    public async Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (data.Length > Options.MaxBlobBytes)
        {
            throw new BlobException(BlobError.TooLarge, $"{data.Length} bytes exceed the limit of {Options.MaxBlobBytes} bytes");
        }
        var sha256 = Hashing.Sha256Hex(data.Span);
        var blobPath = BlobPath(sha256);
        if (File.Exists(blobPath))
        {
            return sha256;
        }
        // A part file without a manifest: invisible to BeginUpload, and collected as stale if a crash leaves it behind.
        var temporary = Path.Combine(_uploads, BlobNames.NewUploadId() + PartExtension);
        try
        {
            using (var handle = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous))
            {
                await RandomAccess.WriteAsync(handle, data, 0, ct);
                RandomAccess.FlushToDisk(handle);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
            MoveIntoPlace(temporary, blobPath);
        }
        finally
        {
            TryDelete(temporary);
        }
        return sha256;
    }

    /// <summary>
    /// Re-hashes a stored blob. One that no longer matches its name is moved to <c>quarantine/</c> (so that the good
    /// bytes can be uploaded again, which a blob left in place would prevent) and reported as <see cref="BlobError.Corrupt"/>.
    /// </summary>
    public async Task VerifyAsync(string sha256, CancellationToken ct)
    {
        var path = BlobPath(sha256);
        string actual;
        try
        {
            actual = await Hashing.Sha256HexOfFileAsync(path, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(sha256);
        }
        if (!string.Equals(actual, sha256, StringComparison.Ordinal))
        {
            Directory.CreateDirectory(_quarantine);
            var quarantined = Path.Combine(_quarantine, $"{sha256}.{DateTime.UtcNow.Ticks}");
            File.Move(path, quarantined, overwrite: true);
            throw new BlobException(BlobError.Corrupt, $"blob {sha256} hashes to {actual}; moved to {quarantined}");
        }
    }

    /// <summary>
    /// Deletes uploads that received nothing for <see cref="BlobStoreOptions.StaleUploadAge"/>, along with leftovers of
    /// interrupted puts and completions; an upload busy in this process is skipped. Returns how many were deleted.
    /// </summary>
    /// <summary>Removes a stored blob (an update that failed validation must be stored nowhere); false if absent.</summary>
    public bool Delete(string sha256)
    {
        var path = BlobPath(sha256);
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        return true;
    }

    public int CollectStaleUploads()
    {
        var cutoff = DateTime.UtcNow - Options.EffectiveStaleUploadAge;
        var filesById = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_uploads))
        {
            var name = Path.GetFileName(file);
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            var id = dot < 0 ? name : name[..dot];
            if (!BlobNames.IsUploadId(id))
            {
                continue; // not a file this store made: leave it alone
            }
            if (!filesById.TryGetValue(id, out var files))
            {
                filesById[id] = files = [];
            }
            files.Add(file);
        }

        var collected = 0;
        foreach (var (id, files) in filesById)
        {
            // The part file's write time moves with every append, so a slow upload that is still sending is not stale.
            var part = Path.Combine(_uploads, id + PartExtension);
            var lastActivity = File.Exists(part) ? File.GetLastWriteTimeUtc(part) : files.Max(File.GetLastWriteTimeUtc);
            if (lastActivity > cutoff)
            {
                continue;
            }
            _sessions.TryGetValue(id, out var session);
            if (session is not null && !session.Gate.Wait(0))
            {
                continue;
            }
            try
            {
                // The manifest first, so that a failure part-way leaves nothing that BeginUpload would resume.
                var deleted = false;
                foreach (var file in files.OrderBy(f => f.EndsWith(ManifestExtension, StringComparison.Ordinal) ? 0 : 1))
                {
                    deleted |= TryDelete(file);
                }
                if (session is not null)
                {
                    Forget(session);
                }
                collected += deleted ? 1 : 0;
            }
            finally
            {
                session?.Gate.Release();
            }
        }
        return collected;
    }

    /// <summary>Releases this instance's locks and running hashes; everything on disk stays for the next instance.</summary>
    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            Forget(session);
        }
        _beginGate.Dispose();
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(
        string sha256, string path, long offset, long size, int chunkSize, [EnumeratorCancellation] CancellationToken ct)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(sha256);
        }
        using (handle)
        {
            // Never rent more than what is left: chunkSize may come from a remote caller.
            var bufferSize = (int)Math.Min(chunkSize, Math.Max(1, size - offset));
            var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
            try
            {
                var position = offset;
                while (position < size)
                {
                    var want = (int)Math.Min(bufferSize, size - position);
                    var filled = 0;
                    while (filled < want)
                    {
                        var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(filled, want - filled), position + filled, ct);
                        if (read == 0)
                        {
                            throw new BlobException(BlobError.Corrupt, $"blob {sha256} ends at byte {position + filled}, but it had {size} bytes");
                        }
                        filled += read;
                    }
                    position += filled;
                    yield return buffer.AsMemory(0, filled);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private string BlobPath(string sha256)
    {
        BlobNames.CheckHash(sha256);
        return Path.Combine(_blobs, sha256[..2], sha256[2..]);
    }

    private UploadSession GetSession(string uploadId)
    {
        BlobNames.CheckUploadId(uploadId);
        if (_sessions.TryGetValue(uploadId, out var cached))
        {
            return cached;
        }
        var manifest = ReadManifest(Path.Combine(_uploads, uploadId + ManifestExtension), uploadId) ?? throw UnknownUpload(uploadId);
        var session = new UploadSession(uploadId, _uploads, manifest);
        var winner = _sessions.GetOrAdd(uploadId, session);
        if (!ReferenceEquals(winner, session))
        {
            session.Dispose();
        }
        return winner;
    }

    /// <summary>The owner's upload under this key that is still on disk, if any. Called under the begin gate.</summary>
    /// <remarks>
    /// Uploads are found through an index held in memory, built from the manifests on disk the first time it is
    /// needed, so that opening an upload costs the same with one upload open as with thousands.
    /// </remarks>
    private UploadHandle? FindResumable(ResumeKey key)
    {
        if (!_resumableLoaded)
        {
            LoadResumable();
        }
        if (!_resumable.TryGetValue(key, out var id))
        {
            return null;
        }
        if (File.Exists(Path.Combine(_uploads, id + ManifestExtension)) && SizeOfFile(Path.Combine(_uploads, id + PartExtension)) is { } received && received <= key.Size)
        {
            return new UploadHandle(id, key.Sha256, key.Size, received);
        }
        _resumable.Remove(key);
        return null;
    }

    private void LoadResumable()
    {
        _resumableLoaded = true;
        var best = new Dictionary<ResumeKey, (string Id, long Received)>();
        foreach (var path in Directory.EnumerateFiles(_uploads, "*" + ManifestExtension))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (!path.EndsWith(ManifestExtension, StringComparison.Ordinal) || !BlobNames.IsUploadId(id))
            {
                continue;
            }
            UploadManifest? manifest;
            try
            {
                manifest = _sessions.TryGetValue(id, out var s) ? s.Manifest : ReadManifest(path, id);
            }
            catch (BlobException)
            {
                continue; // a damaged manifest resumes nothing; the collector removes it in time
            }
            if (manifest is null || SizeOfFile(Path.Combine(_uploads, id + PartExtension)) is not { } received || received > manifest.Size)
            {
                continue;
            }
            var key = new ResumeKey(manifest.Sha256, manifest.HashDeclared ? null : manifest.Scope, manifest.Size, manifest.Owner);
            if (!best.TryGetValue(key, out var other) || received >= other.Received)
            {
                best[key] = (id, received);
            }
        }
        foreach (var (key, value) in best)
        {
            _resumable[key] = value.Id;
        }
    }

    /// <summary>What a resuming sender names: the declared hash (or, declared at the end, a scope), the size and the owner.</summary>
    private sealed record ResumeKey(string Sha256, string? Scope, long Size, string Owner);

    /// <summary>Null if the manifest does not exist (any more); <see cref="BlobError.Corrupt"/> if it cannot be read as one.</summary>
    private static UploadManifest? ReadManifest(string path, string uploadId)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        UploadManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, BlobJsonContext.Default.UploadManifest);
        }
        catch (JsonException ex)
        {
            throw new BlobException(BlobError.Corrupt, $"upload {uploadId}: manifest is not valid JSON: {ex.Message}");
        }
        // The manifest's hash becomes a path on completion, so it is checked like any other input.
        return manifest is { Owner: not null, Size: >= 0, Sha256: not null }
            && (BlobNames.IsHash(manifest.Sha256) || (manifest.Sha256.Length == 0 && manifest.Scope is { Length: > 0 and <= UploadManifest.MaxScopeLength }))
            ? manifest
            : throw new BlobException(BlobError.Corrupt, $"upload {uploadId}: manifest lacks a valid sha256, size or owner");
    }

    private static async Task WriteManifestAsync(UploadSession session, CancellationToken ct)
    {
        // Written aside and renamed, so a crash never leaves half a manifest under the real name.
        var temporary = session.ManifestPath + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await JsonSerializer.SerializeAsync(stream, session.Manifest, BlobJsonContext.Default.UploadManifest, ct);
                // Not flushed to disk: a manifest lost to a power cut loses only the chance to resume (the upload then
                // starts again), never an accepted update, and a flush here would cost every upload a disk round trip.
                stream.Flush();
            }
            File.Move(temporary, session.ManifestPath);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    private SafeFileHandle OpenPart(UploadSession session)
    {
        try
        {
            // FileShare.None also takes an advisory lock on Unix: another process appending to the same upload fails
            // instead of interleaving.
            return File.OpenHandle(session.PartPath, FileMode.Open, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Forget(session);
            throw UnknownUpload(session.Id);
        }
    }

    private static void CheckOffset(UploadSession session, long offset, long received)
    {
        if (received > session.Manifest.Size)
        {
            throw new BlobException(BlobError.Corrupt, $"upload {session.Id}: {received} bytes on disk, more than the {session.Manifest.Size} declared");
        }
        if (offset != received)
        {
            throw new BlobException(BlobError.WrongOffset, $"upload {session.Id}: append at offset {offset}, but {received} bytes have been received");
        }
    }

    private static void CheckRoom(UploadSession session, long received, int length)
    {
        if (length > session.Manifest.Size - received)
        {
            throw new BlobException(
                BlobError.Overflow,
                $"upload {session.Id}: {length} bytes at offset {received} would end at {received + length}, past the declared size of {session.Manifest.Size}");
        }
    }

    private static void MoveIntoPlace(string source, string destination)
    {
        try
        {
            File.Move(source, destination, overwrite: false);
        }
        catch (IOException) when (File.Exists(destination))
        {
            // Someone stored the same content first; same hash, same bytes, so theirs is as good as ours.
            TryDelete(source);
        }
    }

    private void Discard(UploadSession session)
    {
        // Manifest first: once it is gone the upload can no longer be resumed, whatever happens to the part file.
        TryDelete(session.ManifestPath);
        TryDelete(session.PartPath);
        Forget(session);
    }

    private void Forget(UploadSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, UploadSession>(session.Id, session)))
        {
            session.Dispose();
        }
    }

    private static long? SizeOfFile(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info.Length : null;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static BlobException UnknownUpload(string uploadId) =>
        new(BlobError.UnknownUpload, $"no upload {uploadId} (never begun, or already completed, aborted or collected)");

    private static BlobException NotFound(string sha256) => new(BlobError.NotFound, $"no blob {sha256}");
}
