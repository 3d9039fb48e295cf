using Skein.Coordinator.Blobs;

namespace Skein.Coordinator.Tests;

public sealed class BlobStoreConcurrencyTests
{
    [Fact]
    public async Task Second_append_waits_for_the_first_then_gets_WrongOffset_while_other_uploads_proceed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var winner = TempRoot.Bytes(2000, seed: 1);
        var loser = TempRoot.Bytes(1000, seed: 2);
        var handle = await store.BeginUploadAsync(TempRoot.Sha(winner), winner.Length, "alice", ct);

        var firstChunkWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseRest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async IAsyncEnumerable<ReadOnlyMemory<byte>> SlowStream()
        {
            yield return winner.AsMemory(0, 1000);
            firstChunkWritten.SetResult(); // the store asks for the next chunk only after writing this one
            await releaseRest.Task;
            yield return winner.AsMemory(1000);
        }

        var first = store.AppendAsync(handle.UploadId, 0, SlowStream(), ct);
        await firstChunkWritten.Task.WaitAsync(ct);
        var second = store.AppendAsync(handle.UploadId, 0, loser, ct);

        // While the first append holds its upload, another upload goes through.
        var other = TempRoot.Bytes(500, seed: 3);
        var otherHandle = await store.BeginUploadAsync(TempRoot.Sha(other), other.Length, "bob", ct);
        Assert.Equal(other.Length, await store.AppendAsync(otherHandle.UploadId, 0, other, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.Equal(TempRoot.Sha(other), await store.CompleteAsync(otherHandle.UploadId, ct));

        await Task.Delay(100, ct);
        Assert.False(second.IsCompleted);

        releaseRest.SetResult();
        Assert.Equal(2000, await first);
        var ex = await Assert.ThrowsAsync<BlobException>(() => second);
        Assert.Equal(BlobError.WrongOffset, ex.Error);
        Assert.Contains("offset 0", ex.Message);
        Assert.Contains("2000 bytes have been received", ex.Message);

        Assert.Equal(TempRoot.Sha(winner), await store.CompleteAsync(handle.UploadId, ct));
        Assert.Equal(winner, await store.ReadAllAsync(TempRoot.Sha(winner), ct));
    }

    [Fact]
    public async Task Many_appends_at_once_to_one_upload_give_one_winner_and_no_corruption()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        const int Writers = 8;
        const int Size = 100_000;
        var candidates = Enumerable.Range(0, Writers).Select(i => TempRoot.Bytes(Size, seed: i)).ToArray();
        // Declare a size that fits exactly one writer's bytes; whoever wins, the content must be exactly theirs.
        var handle = await store.BeginUploadAsync(TempRoot.Sha(candidates[0]), Size, "alice", ct);

        using var start = new ManualResetEventSlim();
        var tasks = candidates.Select(data => Task.Run(async () =>
        {
            start.Wait(ct);
            try
            {
                return (Data: data, Offset: (long?)await store.AppendAsync(handle.UploadId, 0, data, ct), Error: (BlobError?)null);
            }
            catch (BlobException ex)
            {
                return (Data: data, Offset: (long?)null, Error: (BlobError?)ex.Error);
            }
        }, ct)).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);

        var winners = results.Where(r => r.Offset is not null).ToArray();
        Assert.Single(winners);
        Assert.Equal(Size, winners[0].Offset);
        Assert.All(results.Where(r => r.Offset is null), r => Assert.Equal(BlobError.WrongOffset, r.Error));
        Assert.Equal(winners[0].Data, File.ReadAllBytes(Path.Combine(root.Uploads, handle.UploadId + ".part")));
    }

    [Fact]
    public async Task Identical_begins_at_once_open_one_upload()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempRoot();
        using var store = root.NewStore();
        var sha = TempRoot.Sha(TempRoot.Bytes(10));
        var handles = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => store.BeginUploadAsync(sha, 10, "alice", ct), ct)));
        Assert.Single(handles.Select(h => h.UploadId).Distinct());
    }
}
