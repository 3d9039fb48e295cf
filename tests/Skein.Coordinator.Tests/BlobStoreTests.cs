using Skein.Coordinator.Blobs;

namespace Skein.Coordinator.Tests;

public sealed class BlobStoreTests
{
    private const int Chunk = 64 * 1024;

    public static TheoryData<int, bool> Sizes()
    {
        var data = new TheoryData<int, bool>();
        foreach (var size in new[] { 0, 1, Chunk, (3 * Chunk) + 17, 3 << 20 })
        {
            data.Add(size, false);
            data.Add(size, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Chunked_upload_round_trips(int size, bool streamed)
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(size, seed: size);
        var sha = TempRoot.Sha(data);

        var handle = await store.BeginUploadAsync(sha, size, "alice", ct);
        Assert.False(handle.AlreadyStored);
        Assert.Equal(0, handle.Offset);
        Assert.Equal(32, handle.UploadId.Length);

        long offset = 0;
        if (streamed)
        {
            offset = await store.AppendAsync(handle.UploadId, 0, TempRoot.Chunks(data, Chunk), ct);
        }
        else
        {
            for (var i = 0; i < size; i += Chunk)
            {
                offset = await store.AppendAsync(handle.UploadId, offset, data.AsMemory(i, Math.Min(Chunk, size - i)), ct);
            }
        }
        Assert.Equal(size, offset);
        Assert.False(store.Exists(sha)); // nothing visible before completion

        Assert.Equal(sha, await store.CompleteAsync(handle.UploadId, ct));
        Assert.True(store.Exists(sha));
        Assert.Equal(size, store.SizeOf(sha));
        Assert.Equal(data, await store.ReadAllAsync(sha, ct));
        Assert.Equal(data, await TempRoot.Collect(store.ReadAsync(sha, 0, Chunk, ct), Chunk));
        await store.VerifyAsync(sha, ct);
        Assert.Empty(root.UploadFiles());

        var again = await store.BeginUploadAsync(sha, size, "bob", ct);
        Assert.True(again.AlreadyStored);
        Assert.Equal(size, again.Offset);
        Assert.Equal(0, again.Remaining);
    }

    [Fact]
    public async Task Restarted_store_resumes_an_upload_from_its_offset()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        var data = TempRoot.Bytes(250_000);
        var sha = TempRoot.Sha(data);

        var first = root.NewStore();
        var handle = await first.BeginUploadAsync(sha, data.Length, "alice", ct);
        Assert.Equal(100_000, await first.AppendAsync(handle.UploadId, 0, data.AsMemory(0, 100_000), ct));
        // "Crash": the first instance is dropped without any shutdown, and a new one opens the same root.

        using var second = root.NewStore();
        var resumed = await second.BeginUploadAsync(sha, data.Length, "alice", ct);
        Assert.Equal(handle.UploadId, resumed.UploadId);
        Assert.Equal(100_000, resumed.Offset);

        var other = await second.BeginUploadAsync(sha, data.Length, "mallory", ct);
        Assert.NotEqual(handle.UploadId, other.UploadId);
        Assert.Equal(0, other.Offset);

        Assert.Equal(data.Length, await second.AppendAsync(resumed.UploadId, resumed.Offset, TempRoot.Chunks(data[100_000..], 30_000), ct));
        Assert.Equal(sha, await second.CompleteAsync(resumed.UploadId, ct)); // re-hashes the file: no running hash survived
        Assert.Equal(data, await second.ReadAllAsync(sha, ct));
        first.Dispose();
    }

    [Fact]
    public async Task Hash_declared_at_the_end_resumes_by_scope_and_is_checked_on_completion()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        var data = TempRoot.Bytes(250_000, seed: 5);
        var sha = TempRoot.Sha(data);

        var first = root.NewStore();
        var handle = await first.BeginUploadAsync("", data.Length, "alice", "task 1 round 2", ct);
        Assert.Equal(0, handle.Offset);
        Assert.Equal(100_000, await first.AppendAsync(handle.UploadId, 0, TempRoot.Chunks(data[..100_000], 30_000), ct));

        // A restarted store finds it by owner, scope and size; another round or owner starts afresh.
        using var second = root.NewStore();
        var resumed = await second.BeginUploadAsync("", data.Length, "alice", "task 1 round 2", ct);
        Assert.Equal((handle.UploadId, 100_000L), (resumed.UploadId, resumed.Offset));
        Assert.NotEqual(handle.UploadId, (await second.BeginUploadAsync("", data.Length, "alice", "task 1 round 3", ct)).UploadId);
        Assert.NotEqual(handle.UploadId, (await second.BeginUploadAsync("", data.Length, "bob", "task 1 round 2", ct)).UploadId);
        await second.AppendAsync(resumed.UploadId, 100_000, data.AsMemory(100_000), ct);

        // Completing needs the hash; a wrong one discards the upload, as a wrong declaration up front does.
        var none = await Assert.ThrowsAsync<BlobException>(() => second.CompleteAsync(resumed.UploadId, null, ct));
        Assert.Equal(BlobError.InvalidHash, none.Error);
        Assert.Contains("must declare one", none.Message);
        Assert.Equal(sha, await second.CompleteAsync(resumed.UploadId, sha, ct));
        Assert.Equal(data, await second.ReadAllAsync(sha, ct));

        var again = await second.BeginUploadAsync("", data.Length, "carol", "task 1 round 2", ct);
        await second.AppendAsync(again.UploadId, 0, data, ct);
        var wrong = await Assert.ThrowsAsync<BlobException>(() => second.CompleteAsync(again.UploadId, TempRoot.Sha([1, 2, 3]), ct));
        Assert.Equal(BlobError.HashMismatch, wrong.Error);
        Assert.DoesNotContain(root.UploadFiles(), f => f.Contains(again.UploadId, StringComparison.Ordinal));

        // An upload without a declared hash needs a scope to be found again.
        var noScope = await Assert.ThrowsAsync<BlobException>(() => second.BeginUploadAsync("", 10, "alice", null, ct));
        Assert.Contains("scope", noScope.Message);
        first.Dispose();
    }

    [Fact]
    public async Task Running_hash_is_not_trusted_once_another_instance_appended()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var a = root.NewStore();
        using var b = root.NewStore();
        var data = TempRoot.Bytes(30_000);
        var sha = TempRoot.Sha(data);
        var handle = await a.BeginUploadAsync(sha, data.Length, "alice", ct);
        await a.AppendAsync(handle.UploadId, 0, data.AsMemory(0, 10_000), ct);
        await b.AppendAsync(handle.UploadId, 10_000, data.AsMemory(10_000, 10_000), ct);
        // a's running hash now has a gap: it must drop it here and re-hash the file on completion.
        await a.AppendAsync(handle.UploadId, 20_000, data.AsMemory(20_000), ct);
        Assert.Equal(sha, await a.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(data, await b.ReadAllAsync(sha, ct));
    }

    [Fact]
    public async Task Stream_cut_off_midway_keeps_what_arrived_for_resume()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(50_000);
        var sha = TempRoot.Sha(data);
        var handle = await store.BeginUploadAsync(sha, data.Length, "alice", ct);

        await Assert.ThrowsAsync<IOException>(() => store.AppendAsync(handle.UploadId, 0, BrokenStream(data.AsMemory(0, 20_000)), ct));

        var resumed = await store.BeginUploadAsync(sha, data.Length, "alice", ct);
        Assert.Equal(20_000, resumed.Offset);
        await store.AppendAsync(handle.UploadId, resumed.Offset, data.AsMemory(20_000), ct);
        Assert.Equal(sha, await store.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(data, await store.ReadAllAsync(sha, ct));

        static async IAsyncEnumerable<ReadOnlyMemory<byte>> BrokenStream(ReadOnlyMemory<byte> first)
        {
            await Task.Yield();
            yield return first;
            throw new IOException("connection reset");
        }
    }

    [Fact]
    public async Task Complete_after_a_crash_between_rename_and_manifest_removal_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        var data = TempRoot.Bytes(1000);
        var sha = TempRoot.Sha(data);
        var first = root.NewStore();
        var handle = await first.BeginUploadAsync(sha, data.Length, "alice", ct);
        await first.AppendAsync(handle.UploadId, 0, data, ct);
        // Simulate the crash: the part file was renamed into place, the manifest not yet removed.
        Directory.CreateDirectory(Path.GetDirectoryName(root.BlobFile(sha))!);
        File.Move(Path.Combine(root.Uploads, handle.UploadId + ".part"), root.BlobFile(sha));

        using var second = root.NewStore();
        Assert.Equal(sha, await second.CompleteAsync(handle.UploadId, ct));
        Assert.Empty(root.UploadFiles());
        Assert.Equal(data, await second.ReadAllAsync(sha, ct));
        first.Dispose();
    }

    [Fact]
    public async Task Oversize_is_refused_before_any_byte_is_written()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore(maxBlobBytes: 1000);
        var sha = TempRoot.Sha(TempRoot.Bytes(1001));

        var ex = await Assert.ThrowsAsync<BlobException>(() => store.BeginUploadAsync(sha, 1001, "alice", ct));
        Assert.Equal(BlobError.TooLarge, ex.Error);
        Assert.Contains("1001", ex.Message);
        Assert.Contains("1000", ex.Message);
        Assert.Empty(root.UploadFiles());

        var put = await Assert.ThrowsAsync<BlobException>(() => store.PutAsync(TempRoot.Bytes(1001), ct));
        Assert.Equal(BlobError.TooLarge, put.Error);
        Assert.Empty(root.UploadFiles());

        var negative = await Assert.ThrowsAsync<BlobException>(() => store.BeginUploadAsync(sha, -1, "alice", ct));
        Assert.Equal(BlobError.InvalidSize, negative.Error);
        Assert.Contains("-1", negative.Message);

        // Exactly the limit is allowed.
        var ok = await store.BeginUploadAsync(TempRoot.Sha(TempRoot.Bytes(1000)), 1000, "alice", ct);
        Assert.Equal(0, ok.Offset);
    }

    [Fact]
    public async Task Append_at_the_wrong_offset_names_both_numbers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(100);
        var handle = await store.BeginUploadAsync(TempRoot.Sha(data), 100, "alice", ct);

        var ahead = await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 7, data.AsMemory(0, 10), ct));
        Assert.Equal(BlobError.WrongOffset, ahead.Error);
        Assert.Contains("offset 7", ahead.Message);
        Assert.Contains("0 bytes have been received", ahead.Message);

        await store.AppendAsync(handle.UploadId, 0, data.AsMemory(0, 40), ct);
        var behind = await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 30, TempRoot.Chunks(data[30..], 10), ct));
        Assert.Equal(BlobError.WrongOffset, behind.Error);
        Assert.Contains("offset 30", behind.Message);
        Assert.Contains("40 bytes have been received", behind.Message);
    }

    [Fact]
    public async Task Append_past_the_declared_size_is_refused_whole()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(10);
        var handle = await store.BeginUploadAsync(TempRoot.Sha(data), 10, "alice", ct);

        var ex = await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 0, TempRoot.Bytes(11), ct));
        Assert.Equal(BlobError.Overflow, ex.Error);
        Assert.Contains("11 bytes at offset 0", ex.Message);
        Assert.Contains("declared size of 10", ex.Message);
        Assert.Equal(0, (await store.BeginUploadAsync(TempRoot.Sha(data), 10, "alice", ct)).Offset);

        // Streamed: the chunks that fit stay, the one that does not is refused.
        var streamed = await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 0, TempRoot.Chunks(TempRoot.Bytes(12), 6), ct));
        Assert.Equal(BlobError.Overflow, streamed.Error);
        Assert.Contains("6 bytes at offset 6", streamed.Message);
        Assert.Equal(6, (await store.BeginUploadAsync(TempRoot.Sha(data), 10, "alice", ct)).Offset);
    }

    [Fact]
    public async Task Truncated_upload_is_refused_and_can_still_be_finished()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(100);
        var sha = TempRoot.Sha(data);
        var handle = await store.BeginUploadAsync(sha, 100, "alice", ct);
        await store.AppendAsync(handle.UploadId, 0, data.AsMemory(0, 60), ct);

        var ex = await Assert.ThrowsAsync<BlobException>(() => store.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(BlobError.Truncated, ex.Error);
        Assert.Contains("received 60 bytes of the 100 declared", ex.Message);
        Assert.False(store.Exists(sha));

        await store.AppendAsync(handle.UploadId, 60, data.AsMemory(60), ct);
        Assert.Equal(sha, await store.CompleteAsync(handle.UploadId, ct));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Hash_mismatch_leaves_no_blob_and_discards_the_upload(bool restartBeforeComplete)
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        var declared = TempRoot.Bytes(5000, seed: 1);
        var sent = TempRoot.Bytes(5000, seed: 2);
        var store = root.NewStore();
        var handle = await store.BeginUploadAsync(TempRoot.Sha(declared), 5000, "alice", ct);
        await store.AppendAsync(handle.UploadId, 0, sent, ct);
        if (restartBeforeComplete)
        {
            store = root.NewStore(); // the running hash is gone, so completion hashes the file
        }

        var ex = await Assert.ThrowsAsync<BlobException>(() => store.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(BlobError.HashMismatch, ex.Error);
        Assert.Contains(TempRoot.Sha(declared), ex.Message);
        Assert.Contains(TempRoot.Sha(sent), ex.Message);
        Assert.False(store.Exists(TempRoot.Sha(declared)));
        Assert.False(store.Exists(TempRoot.Sha(sent)));
        Assert.Empty(root.UploadFiles());
        Assert.Empty(Directory.GetFiles(Path.Combine(root.Root, "blobs"), "*", SearchOption.AllDirectories));
        var gone = await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 0, sent, ct));
        Assert.Equal(BlobError.UnknownUpload, gone.Error);
        store.Dispose();
    }

    [Fact]
    public async Task Declaring_a_stored_hash_with_another_size_is_a_mismatch()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var sha = await store.PutAsync(TempRoot.Bytes(10), ct);
        var ex = await Assert.ThrowsAsync<BlobException>(() => store.BeginUploadAsync(sha, 11, "alice", ct));
        Assert.Equal(BlobError.HashMismatch, ex.Error);
        Assert.Contains("10 bytes", ex.Message);
        Assert.Contains("11 bytes", ex.Message);
    }

    [Fact]
    public async Task Unknown_and_aborted_uploads_and_blobs_are_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var unknownId = new string('a', 32);
        var unknownSha = new string('b', 64);

        Assert.Equal(BlobError.UnknownUpload, (await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(unknownId, 0, new byte[1], ct))).Error);
        Assert.Equal(BlobError.UnknownUpload, (await Assert.ThrowsAsync<BlobException>(() => store.CompleteAsync(unknownId, ct))).Error);
        Assert.Equal(BlobError.UnknownUpload, (await Assert.ThrowsAsync<BlobException>(() => store.AbortAsync(unknownId, ct))).Error);
        var notFound = await Assert.ThrowsAsync<BlobException>(() => store.ReadAllAsync(unknownSha, ct));
        Assert.Equal(BlobError.NotFound, notFound.Error);
        Assert.Contains(unknownSha, notFound.Message);
        Assert.Equal(BlobError.NotFound, Assert.Throws<BlobException>(() => store.ReadAsync(unknownSha, 0, 10, ct)).Error);
        Assert.Equal(BlobError.NotFound, (await Assert.ThrowsAsync<BlobException>(() => store.VerifyAsync(unknownSha, ct))).Error);
        Assert.False(store.Exists(unknownSha));
        Assert.Null(store.SizeOf(unknownSha));

        var data = TempRoot.Bytes(100);
        var handle = await store.BeginUploadAsync(TempRoot.Sha(data), 100, "alice", ct);
        await store.AppendAsync(handle.UploadId, 0, data.AsMemory(0, 50), ct);
        await store.AbortAsync(handle.UploadId, ct);
        Assert.Empty(root.UploadFiles());
        Assert.Equal(BlobError.UnknownUpload, (await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(handle.UploadId, 50, data.AsMemory(50), ct))).Error);
        Assert.Equal(0, (await store.BeginUploadAsync(TempRoot.Sha(data), 100, "alice", ct)).Offset);
    }

    public static TheoryData<string> BadHashes() =>
    [
        "../../../../etc/passwd",
        "../" + new string('a', 61),
        new string('A', 64),
        new string('a', 63),
        new string('a', 65),
        new string('g', 64),
        "ab/" + new string('c', 61),
        "ab\\" + new string('c', 61),
        "",
        new string('a', 62) + "\0a",
    ];

    [Theory]
    [MemberData(nameof(BadHashes))]
    public async Task Malformed_hashes_never_reach_a_path(string sha)
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        void Check(BlobException ex)
        {
            Assert.Equal(BlobError.InvalidHash, ex.Error);
            Assert.Contains("64 lowercase hex digits", ex.Message);
        }

        Check(Assert.Throws<BlobException>(() => store.Exists(sha)));
        Check(Assert.Throws<BlobException>(() => store.SizeOf(sha)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.BeginUploadAsync(sha, 1, "alice", ct)));
        Check(Assert.Throws<BlobException>(() => store.ReadAsync(sha, 0, 10, ct)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.ReadAllAsync(sha, ct)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.VerifyAsync(sha, ct)));
        Assert.Empty(root.UploadFiles());
    }

    public static TheoryData<string> BadIds() =>
    [
        "../../../../etc/passwd",
        "../" + new string('a', 29),
        new string('A', 32),
        new string('a', 31),
        new string('a', 33),
        "..\\" + new string('a', 29),
        "",
        new string('a', 64),
    ];

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task Malformed_upload_ids_never_reach_a_path(string id)
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        void Check(BlobException ex)
        {
            Assert.Equal(BlobError.InvalidId, ex.Error);
            Assert.Contains("32 lowercase hex digits", ex.Message);
        }

        Check(await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(id, 0, new byte[1], ct)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(id, 0, TempRoot.Chunks(new byte[1], 1), ct)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.CompleteAsync(id, ct)));
        Check(await Assert.ThrowsAsync<BlobException>(() => store.AbortAsync(id, ct)));
    }

    [Fact]
    public async Task Put_is_idempotent_and_shares_blobs_with_uploads()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(70_000);
        var sha = await store.PutAsync(data, ct);
        Assert.Equal(TempRoot.Sha(data), sha);
        Assert.Equal(sha, await store.PutAsync(data.ToArray(), ct));
        Assert.Single(Directory.GetFiles(Path.Combine(root.Root, "blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(root.UploadFiles());
        Assert.Equal(data, await store.ReadAllAsync(sha, ct));

        var handle = await store.BeginUploadAsync(sha, data.Length, "alice", ct);
        Assert.True(handle.AlreadyStored);
        Assert.Equal("", handle.UploadId);
        Assert.Equal(data.Length, handle.Offset);

        var empty = await store.PutAsync(ReadOnlyMemory<byte>.Empty, ct);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", empty);
        Assert.Empty(await store.ReadAllAsync(empty, ct));
    }

    [Fact]
    public async Task Upload_racing_a_put_of_the_same_content_keeps_one_blob()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(4096);
        var handle = await store.BeginUploadAsync(TempRoot.Sha(data), data.Length, "alice", ct);
        await store.AppendAsync(handle.UploadId, 0, data, ct);
        await store.PutAsync(data, ct); // lands first
        Assert.Equal(TempRoot.Sha(data), await store.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(data, await store.ReadAllAsync(TempRoot.Sha(data), ct));
        Assert.Empty(root.UploadFiles());
    }

    [Fact]
    public async Task Read_starts_at_any_offset_in_bounded_chunks()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(10_000);
        var sha = await store.PutAsync(data, ct);

        Assert.Equal(data, await TempRoot.Collect(store.ReadAsync(sha, 0, 3000, ct), 3000));
        Assert.Equal(data[1234..], await TempRoot.Collect(store.ReadAsync(sha, 1234, 1000, ct), 1000));
        Assert.Equal(data[9999..], await TempRoot.Collect(store.ReadAsync(sha, 9999, 1 << 30, ct), 1));
        Assert.Empty(await TempRoot.Collect(store.ReadAsync(sha, 10_000, 100, ct)));

        var past = Assert.Throws<BlobException>(() => store.ReadAsync(sha, 10_001, 100, ct));
        Assert.Equal(BlobError.WrongOffset, past.Error);
        Assert.Contains("10001", past.Message);
        Assert.Contains("10000", past.Message);
        Assert.Equal(BlobError.WrongOffset, Assert.Throws<BlobException>(() => store.ReadAsync(sha, -1, 100, ct)).Error);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadAsync(sha, 0, 0, ct));
    }

    [Fact]
    public async Task Verify_detects_and_quarantines_a_corrupted_blob()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var data = TempRoot.Bytes(20_000);
        var sha = await store.PutAsync(data, ct);
        await store.VerifyAsync(sha, ct);

        var onDisk = File.ReadAllBytes(root.BlobFile(sha));
        onDisk[12_345] ^= 0x40;
        File.WriteAllBytes(root.BlobFile(sha), onDisk);

        var ex = await Assert.ThrowsAsync<BlobException>(() => store.VerifyAsync(sha, ct));
        Assert.Equal(BlobError.Corrupt, ex.Error);
        Assert.Contains(sha, ex.Message);
        Assert.Contains(TempRoot.Sha(onDisk), ex.Message);
        Assert.False(store.Exists(sha));
        Assert.Single(Directory.GetFiles(Path.Combine(root.Root, "quarantine")));

        // With the bad copy out of the way, the good bytes can be stored again.
        Assert.Equal(sha, await store.PutAsync(data, ct));
        await store.VerifyAsync(sha, ct);
    }

    [Fact]
    public async Task Reading_a_blob_truncated_on_disk_reports_corruption()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var sha = await store.PutAsync(TempRoot.Bytes(10_000), ct);
        var chunks = store.ReadAsync(sha, 0, 4000, ct);
        File.WriteAllBytes(root.BlobFile(sha), TempRoot.Bytes(5000));

        var ex = await Assert.ThrowsAsync<BlobException>(() => TempRoot.Collect(chunks));
        Assert.Equal(BlobError.Corrupt, ex.Error);
        Assert.Contains("5000", ex.Message);
    }

    [Fact]
    public async Task Stale_uploads_are_collected_and_live_ones_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore(staleUploadAge: TimeSpan.FromMinutes(1));
        var old = TempRoot.Bytes(100, seed: 1);
        var live = TempRoot.Bytes(100, seed: 2);
        var oldHandle = await store.BeginUploadAsync(TempRoot.Sha(old), 100, "alice", ct);
        await store.AppendAsync(oldHandle.UploadId, 0, old.AsMemory(0, 10), ct);
        var liveHandle = await store.BeginUploadAsync(TempRoot.Sha(live), 100, "alice", ct);
        var orphan = Path.Combine(root.Uploads, new string('c', 32) + ".part"); // a Put interrupted by a crash
        File.WriteAllBytes(orphan, [1, 2, 3]);
        var foreign = Path.Combine(root.Uploads, "README");
        File.WriteAllText(foreign, "not the store's");

        var twoMinutesAgo = DateTime.UtcNow.AddMinutes(-2);
        File.SetLastWriteTimeUtc(Path.Combine(root.Uploads, oldHandle.UploadId + ".part"), twoMinutesAgo);
        File.SetLastWriteTimeUtc(orphan, twoMinutesAgo);
        File.SetLastWriteTimeUtc(foreign, twoMinutesAgo);
        // The live upload's manifest is old too: activity is the part file's write time, which appends move.
        File.SetLastWriteTimeUtc(Path.Combine(root.Uploads, liveHandle.UploadId + ".json"), twoMinutesAgo);

        Assert.Equal(2, store.CollectStaleUploads());
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(foreign));
        Assert.Equal(BlobError.UnknownUpload, (await Assert.ThrowsAsync<BlobException>(() => store.AppendAsync(oldHandle.UploadId, 10, old.AsMemory(10), ct))).Error);
        Assert.Equal(0, (await store.BeginUploadAsync(TempRoot.Sha(old), 100, "alice", ct)).Offset);

        await store.AppendAsync(liveHandle.UploadId, 0, live, ct);
        Assert.Equal(TempRoot.Sha(live), await store.CompleteAsync(liveHandle.UploadId, ct));
        Assert.Equal(0, store.CollectStaleUploads());
    }

    [Fact]
    public void Options_default_to_512_MiB_and_24_hours()
    {
        var options = new BlobStoreOptions("/tmp/x");
        Assert.Equal(512L << 20, options.MaxBlobBytes);
        Assert.Equal(TimeSpan.FromHours(24), options.EffectiveStaleUploadAge);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlobStore(options with { MaxBlobBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlobStore(options with { StaleUploadAge = TimeSpan.Zero }));
    }
}
