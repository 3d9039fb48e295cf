using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>
/// Nodes whose request or reply is lost with its connection (what the chaos bench's proxy and kills do): found by
/// <c>skein bench chaos</c>, where a validator cut off between saving and sending its commitment never committed, and
/// a trainer whose submission landed but whose reply was lost exited on "already submitted".
/// </summary>
public sealed class NodeLostMessageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-lost-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("lost-" + name)));

    /// <summary>Loses the first SubmitTransaction whose signed JSON is of <paramref name="type"/>: before it leaves, or after its reply came.</summary>
    private sealed class LoseOnce(HttpMessageHandler inner, string type, bool afterReply, Action lost) : DelegatingHandler(inner)
    {
        private static int s_fired;
        private readonly string _marker = $"\"type\":\"{type}\"";

        public static void Reset() => s_fired = 0;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // An upload stream whose connection ends while chunks are still being written, as a cut connection ends it.
            if (type == "upload_chunks" && (request.RequestUri!.AbsolutePath.EndsWith("/UploadChunks", StringComparison.Ordinal) || request.RequestUri.AbsolutePath.EndsWith("/uploads", StringComparison.Ordinal)) && request.Content is { } chunks
                && Interlocked.CompareExchange(ref s_fired, 1, 0) == 0)
            {
                lost();
                request.Content = new BrokenBody(chunks);
            }
            if (request.RequestUri!.AbsolutePath.EndsWith("/SubmitTransaction", StringComparison.Ordinal) && request.Content is { } content)
            {
                var body = await content.ReadAsByteArrayAsync(cancellationToken);
                var copy = new ByteArrayContent(body);
                foreach (var h in content.Headers)
                {
                    copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
                }
                request.Content = copy;
                if (Encoding.UTF8.GetString(body).Contains(_marker, StringComparison.Ordinal) && Interlocked.CompareExchange(ref s_fired, 1, 0) == 0)
                {
                    if (afterReply)
                    {
                        using var reply = await base.SendAsync(request, cancellationToken);
                        await reply.Content.ReadAsByteArrayAsync(cancellationToken);
                    }
                    lost();
                    throw new HttpRequestException($"lost ({(afterReply ? "reply" : "request")} of {type})", new IOException("connection reset"));
                }
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A request body whose connection dies once the first bytes are written, as the transport reports it.</summary>
    private sealed class BrokenBody(HttpContent inner) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            await inner.CopyToAsync(new Breaking(stream));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        private sealed class Breaking(Stream inner) : Stream
        {
            public override bool CanRead => false;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush() => inner.Flush();

            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw Broken();

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException(Broken());

            private static HttpIOException Broken() => new(HttpRequestError.ResponseEnded, "The response ended prematurely while waiting for the next frame from the server.");
        }
    }

    [Theory]
    [InlineData("commit_scores", false)]
    [InlineData("commit_scores", true)]
    [InlineData("submit_update", false)]
    [InlineData("submit_update", true)]
    [InlineData("upload_chunks", false)]
    public async Task A_node_whose_request_or_reply_is_lost_with_its_connection_still_finishes_its_step_and_keeps_running(string type, bool afterReply)
    {
        var ct = TestContext.Current.CancellationToken;
        LoseOnce.Reset();
        string[] trainers = ["t1", "t2"];
        string[] parties = ["coordinator", "v1", .. trainers];
        var genesis = new Genesis(78, LedgerParams.Default, parties
            .Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        var options = new CoordinatorOptions
        {
            DataDirectory = Path.Combine(_dir, "coordinator"),
            // Long deadlines: the round must close because everyone answered, not because time ran out.
            Timings = new RoundTimings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60)),
        };
        await using var host = await CoordinatorHost.StartAsync(options, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var taskId = await host.HostTaskAsync("""
            { "name": "lost", "model": "logreg", "rounds": 1, "trainers_per_round": 2, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "10", "min_stake": "5", "reject_below": 0.05 }
            """, seed: 1, ct);

        var lost = 0;
        Func<HttpMessageHandler, HttpMessageHandler> wrap = h => new LoseOnce(h, type, afterReply, () => Interlocked.Increment(ref lost));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var nodes = new List<Task>();
        for (var i = 0; i < trainers.Length; i++)
        {
            var data = Path.Combine(_dir, trainers[i]);
            SyntheticImages.WriteIdxFiles(data, "train", 100, (ulong)i);
            nodes.Add(new NodeDaemon(new NodeOptions
            {
                Coordinator = host.Uri,
                DataDirectory = data,
                StateDirectory = Path.Combine(data, "state"),
                TrainerStake = Tokens.Whole(5),
                WrapTransport = i == 0 && type is "submit_update" or "upload_chunks" ? wrap : null,
            }, Key(trainers[i]), NullLogger.Instance).RunAsync(stop.Token));
        }
        var validatorData = Path.Combine(_dir, "v1");
        SyntheticImages.WriteIdxFiles(validatorData, "heldout", 200, 9);
        nodes.Add(new NodeDaemon(new NodeOptions
        {
            Coordinator = host.Uri,
            DataDirectory = validatorData,
            StateDirectory = Path.Combine(validatorData, "state"),
            ValidatorStake = Tokens.Whole(5),
            WrapTransport = type == "commit_scores" ? wrap : null,
        }, Key("v1"), NullLogger.Instance).RunAsync(stop.Token));

        for (var i = 0; i < 300; i++)
        {
            var t = await host.Context.Ledger.GetTaskAsync(taskId, ct);
            if (t!.Trainers.Count == 2 && t.Validators.Count == 1)
            {
                break;
            }
            await Task.Delay(100, ct);
        }
        host.StartEngine(taskId);
        var engine = host.Engines[0];
        // Either the round completes, or a node gives up: whichever comes first (bounded by the deadlines, which it must not need).
        await Task.WhenAny(engine, Task.WhenAny(nodes.Select(async n => { await n; await engine; }))).WaitAsync(TimeSpan.FromSeconds(50), ct);
        Assert.Equal(1, lost);
        // A node returns once its task completes; it must not have failed before.
        Assert.All(nodes, n => Assert.False(n.IsFaulted, $"a node failed: {n.Exception?.InnerException?.Message}"));
        Assert.True(engine.IsCompletedSuccessfully, "the round did not settle before its deadlines");

        var round = (await host.Context.Ledger.GetRoundAsync(taskId, 1, ct))!;
        Assert.Equal(2, round.Updates.Count);
        Assert.Contains(Key("v1").Address, round.Revealed);
        Assert.DoesNotContain(round.Movements, m => m.Kind.EndsWith("slash", StringComparison.Ordinal));
        await stop.CancelAsync();
        await Task.WhenAll(nodes.Select(n => n.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)));
    }
}
