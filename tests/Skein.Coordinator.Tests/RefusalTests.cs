using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Skein.Node;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Tests;

/// <summary>Every refusal the coordinator owes a node, provoked over gRPC, with its reason checked; refused bytes are stored nowhere.</summary>
public sealed class RefusalTests() : OpenRoundFixture("refuse-", ModelKind.LogReg, 64 * 1024)
{
    [Fact]
    public async Task A_wrong_login_signature_and_a_missing_session_are_refused()
    {
        var client = Nodes["t1"].Client;
        var hello = await client.HelloAsync(new HelloRequest { Address = Key("t1").Address.ToString() }, cancellationToken: Ct);
        var forged = LoginProof.Sign(Key("t2"), 55, new Hash32(hello.Challenge.Span), hello.ExpiresUnixMs);
        await Refused(() => client.AuthenticateAsync(new AuthenticateRequest
        {
            Address = Key("t1").Address.ToString(),
            Challenge = hello.Challenge,
            ExpiresUnixMs = hello.ExpiresUnixMs,
            Signature = ByteString.CopyFrom(forged),
        }, cancellationToken: Ct).ResponseAsync, StatusCode.Unauthenticated, "signature");
        await Refused(() => client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = new string('a', 64), Size = 10 }, cancellationToken: Ct).ResponseAsync,
            StatusCode.Unauthenticated, "authorization");
        await Refused(() => client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = new string('a', 64), Size = 10 },
            new Metadata { { "authorization", "Bearer nonsense" } }, cancellationToken: Ct).ResponseAsync, StatusCode.Unauthenticated, "unknown or expired");
    }

    [Fact]
    public async Task Uploads_from_trainers_not_picked_are_refused()
    {
        var (_, notPicked) = await Trainers();
        await Refused(() => Nodes[notPicked].UploadAsync(1, 1, Update(), Ct), StatusCode.PermissionDenied, "was not picked");
    }

    [Fact]
    public async Task Oversized_truncated_mismatched_malformed_and_non_finite_uploads_are_refused_and_stored_nowhere()
    {
        var (picked, _) = await Trainers();
        var node = Nodes[picked];
        await Refused(() => node.Client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = new string('b', 64), Size = 1 << 20 }, node.Auth, cancellationToken: Ct).ResponseAsync,
            StatusCode.InvalidArgument, $"exceeds the limit of {Layout.ToSafeTensors(new float[Layout.TotalCount]).Length + 4096} bytes per update of task 1 (one logreg update)");

        // Truncated: declare the whole update, send half of it.
        var bytes = Update(0.02f);
        var sha = Hashing.Sha256Hex(bytes);
        var begin = await node.Client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = sha, Size = bytes.Length }, node.Auth, cancellationToken: Ct);
        using (var call = node.Client.UploadChunks(node.Auth, cancellationToken: Ct))
        {
            await call.RequestStream.WriteAsync(new UploadChunk { UploadId = begin.UploadId, Offset = 0, Data = ByteString.CopyFrom(bytes, 0, bytes.Length / 2) }, Ct);
            await call.RequestStream.CompleteAsync();
            await Refused(() => call.ResponseAsync, StatusCode.FailedPrecondition, $"truncated: received {bytes.Length / 2} of {bytes.Length} bytes");
        }
        Assert.False(Host.Context.Blobs.Exists(sha));

        // Hash mismatch: declared hash of one update, bytes of another of the same size.
        var other = Update(0.03f);
        begin = await node.Client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = Hashing.Sha256Hex(Update(0.04f)), Size = other.Length }, node.Auth, cancellationToken: Ct);
        using (var call = node.Client.UploadChunks(node.Auth, cancellationToken: Ct))
        {
            await call.RequestStream.WriteAsync(new UploadChunk { UploadId = begin.UploadId, Offset = 0, Data = ByteString.CopyFrom(other) }, Ct);
            await call.RequestStream.CompleteAsync();
            await Refused(() => call.ResponseAsync, StatusCode.InvalidArgument, "declared sha256");
        }
        Assert.False(Host.Context.Blobs.Exists(Hashing.Sha256Hex(other)));

        // Wrong tensors: a 2NN update for a logreg task.
        var wrong = ModelLayouts.For(ModelKind.Mlp2NN);
        var wrongBytes = wrong.ToSafeTensors(new float[wrong.TotalCount]);
        await Refused(() => node.UploadAsync(1, 1, wrongBytes.AsMemory(0, Math.Min(wrongBytes.Length, 60_000)), Ct), StatusCode.InvalidArgument, "");
        var shapes = new ParameterLayout([new ParameterSpec("fc.weight", [10, 783]), new ParameterSpec("fc.bias", [10])]);
        var shapeBytes = shapes.ToSafeTensors(new float[shapes.TotalCount]);
        await Refused(() => node.UploadAsync(1, 1, shapeBytes, Ct), StatusCode.InvalidArgument, "fc.weight");
        Assert.False(Host.Context.Blobs.Exists(Hashing.Sha256Hex(shapeBytes)));

        // NaN.
        var values = new float[Layout.TotalCount];
        values[42] = float.NaN;
        var nan = Layout.ToSafeTensors(values);
        var ex = await Refused(() => node.UploadAsync(1, 1, nan, Ct), StatusCode.InvalidArgument, "fc.weight");
        Assert.Contains("42", ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(Host.Context.Blobs.Exists(Hashing.Sha256Hex(nan)));
    }

    [Fact]
    public async Task Commitments_need_a_checked_upload_and_cannot_be_replayed_or_come_late()
    {
        var (picked, _) = await Trainers();
        var node = Nodes[picked];
        var bytes = Update(0.05f);
        var unknown = Hash32.Parse(Hashing.Sha256Hex(bytes));
        await Refused(() => node.SendAsync((f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = 1, Round = 1, UpdateHash = unknown, Samples = 10 }, Ct),
            StatusCode.FailedPrecondition, "was not uploaded");

        var hash = await node.UploadAsync(1, 1, bytes, Ct);
        var account = await node.AccountAsync(Ct);
        var submit = Key(picked).SignTransaction(new SubmitUpdate { From = Key(picked).Address, Nonce = account.Nonce, TaskId = 1, Round = 1, UpdateHash = Hash32.Parse(hash), Samples = 10 }, 55) with { ChainId = 55 };
        await node.Client.SubmitTransactionAsync(new TransactionRequest { SignedJson = submit.ToJson() }, node.Auth, cancellationToken: Ct);
        await Refused(() => node.Client.SubmitTransactionAsync(new TransactionRequest { SignedJson = submit.ToJson() }, node.Auth, cancellationToken: Ct).ResponseAsync,
            StatusCode.AlreadyExists, "replayed");

        // Someone else's signed transaction on this node's session.
        await Refused(() => Nodes["v1"].Client.SubmitTransactionAsync(new TransactionRequest { SignedJson = submit.ToJson() }, Nodes["v1"].Auth, cancellationToken: Ct).ResponseAsync,
            StatusCode.PermissionDenied, "session belongs to");

        await Coordinator((f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = 1 });
        await Refused(() => node.UploadAsync(1, 1, Update(0.06f), Ct), StatusCode.FailedPrecondition, "late");
    }
}
