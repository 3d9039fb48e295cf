using Grpc.Core;
using Skein.Core;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.Transactions;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Tests;

/// <summary>WatchUpdates: a round's updates announced as the ledger accepts them, in order, until its training closes.</summary>
public sealed class WatchUpdatesTests() : OpenRoundFixture("watch-updates-", ModelKind.LogReg, 64 * 1024)
{
    [Fact]
    public async Task Each_accepted_update_is_announced_in_order_and_the_stream_ends_when_training_closes()
    {
        var round = (await Host.Context.Ledger.GetRoundAsync(1, 1, Ct))!;
        var picked = new[] { "t1", "t2", "t3" }.Where(n => round.PickedTrainers.Contains(Key(n).Address)).ToArray();
        Assert.Equal(2, picked.Length);
        var validator = Nodes["v1"];
        using var call = validator.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = 1, Round = 1 }, validator.Auth, cancellationToken: Ct);
        var stream = call.ResponseStream;
        // Nothing is announced before a submission: the first read is still waiting once the first update is in.
        var next = stream.MoveNext(Ct);
        Assert.False(next.IsCompleted);
        var first = await Submit(picked[0], 0.01f);
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(new UpdateNotice { Index = 0, Sha256 = first, Trainer = Key(picked[0]).Address.ToString() }, stream.Current);

        var second = await Submit(picked[1], 0.02f);
        Assert.True(await stream.MoveNext(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(new UpdateNotice { Index = 1, Sha256 = second, Trainer = Key(picked[1]).Address.ToString() }, stream.Current);

        // A late watcher, or one that lost its stream, starts where it left off.
        using (var resumed = validator.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = 1, Round = 1, FromIndex = 1 }, validator.Auth, cancellationToken: Ct))
        {
            Assert.True(await resumed.ResponseStream.MoveNext(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));
            Assert.Equal(new UpdateNotice { Index = 1, Sha256 = second, Trainer = Key(picked[1]).Address.ToString() }, resumed.ResponseStream.Current);
        }

        await Coordinator((f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        Host.Context.Events.Nudge(1);
        Assert.False(await stream.MoveNext(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));

        // After training, a watcher gets the whole list and the end at once.
        using var after = validator.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = 1, Round = 1 }, validator.Auth, cancellationToken: Ct);
        var all = new List<string>();
        await foreach (var notice in after.ResponseStream.ReadAllAsync(Ct))
        {
            all.Add(notice.Sha256);
        }
        Assert.Equal([first, second], all);
    }

    [Fact]
    public async Task A_round_that_does_not_exist_and_a_missing_session_are_refused()
    {
        var validator = Nodes["v1"];
        using var missing = validator.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = 1, Round = 9 }, validator.Auth, cancellationToken: Ct);
        await Refused(() => missing.ResponseStream.MoveNext(Ct), StatusCode.NotFound, "has no round 9");
        using var anonymous = validator.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = 1, Round = 1 }, cancellationToken: Ct);
        var ex = await Assert.ThrowsAsync<RpcException>(() => anonymous.ResponseStream.MoveNext(Ct));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    private async Task<string> Submit(string trainer, float value)
    {
        var node = Nodes[trainer];
        var hash = await node.UploadAsync(1, 1, Update(value), Ct);
        await node.SendAsync((f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = Hash32.Parse(hash), Samples = 10 }, Ct);
        return hash;
    }
}
