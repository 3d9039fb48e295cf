using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using Skein.Coordinator.Grpc;
using Skein.Core;
using Skein.Protocol.V1;

namespace Skein.Fuzz.Targets;

/// <summary>
/// Every gRPC request of the coordinator: the first byte picks the method, the rest is decoded as its protobuf message
/// (<c>Parser.ParseFrom</c>, as the gRPC server does), and the decoded request goes to the real handler with a signed-in
/// session (or none). A handler refuses with <see cref="RpcException"/>; anything else would reach the node as an
/// internal error.
/// </summary>
internal static class GrpcTarget
{
    private static readonly string[] Methods = ["Hello", "Authenticate", "GetInfo", "BeginUpload", "UploadChunks", "Download", "SubmitTransaction", "WatchRounds", "GetAccount"];

    public static FuzzTarget Create()
    {
        var fixture = CoordinatorFixture.Create();
        var service = new CoordinatorService(fixture.Context);
        var address = LedgerFixture.Keys[0].Address.ToString();
        var hash = new string('a', 64);
        IMessage[] seeds =
        [
            new HelloRequest { Address = address },
            new AuthenticateRequest { Address = address, Challenge = ByteString.CopyFrom(new byte[32]), ExpiresUnixMs = 1, Signature = ByteString.CopyFrom(new byte[65]) },
            new InfoRequest(),
            new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = hash, Size = 100 },
            new UploadChunk { UploadId = new string('0', 32), Offset = 0, Data = ByteString.CopyFromUtf8("data") },
            new DownloadRequest { Sha256 = hash, Offset = 0 },
            new TransactionRequest { SignedJson = System.Text.Encoding.UTF8.GetString(LedgerTargets.Transaction().Seeds[0]) },
            new WatchRequest { TaskId = 1 },
            new AccountRequest { Address = address },
        ];
        return new FuzzTarget
        {
            Name = "grpc",
            Description = "Coordinator gRPC: protobuf decode of each request message, then the CoordinatorService handler (session, addresses, hashes, sizes, offsets, transactions)",
            Seeds = [.. seeds.Select((m, i) => (byte[])[(byte)i, .. m.ToByteArray()]), .. seeds.Select((m, i) => (byte[])[(byte)(i + 128), .. m.ToByteArray()])],
            Generate = rng => Generate(rng, address),
            Run = input => Run(service, fixture.Token, input),
            Resources = fixture,
            MaxInputBytes = 16 << 10,
        };
    }

    private static FuzzOutcome Run(CoordinatorService service, string token, byte[] input)
    {
        if (input.Length == 0)
        {
            return FuzzOutcome.Refused;
        }
        var method = (input[0] & 0x7f) % Methods.Length;
        // The top bit of the first byte: with the signed-in session, or without one.
        var headers = new Metadata();
        if (input[0] >= 128)
        {
            headers.Add("authorization", "Bearer " + token);
        }
        var body = input.AsSpan(1);
        using var cancel = new CancellationTokenSource();
        var context = new FuzzCallContext(headers, cancel.Token);
        try
        {
            var call = method switch
            {
                0 => service.Hello(HelloRequest.Parser.ParseFrom(body), context),
                1 => service.Authenticate(AuthenticateRequest.Parser.ParseFrom(body), context),
                2 => service.GetInfo(InfoRequest.Parser.ParseFrom(body), context),
                3 => service.BeginUpload(BeginUploadRequest.Parser.ParseFrom(body), context),
                4 => service.UploadChunks(new FuzzStreamReader<UploadChunk>([UploadChunk.Parser.ParseFrom(body)]), context),
                5 => service.Download(DownloadRequest.Parser.ParseFrom(body), new FuzzStreamWriter<DownloadChunk>(), context),
                6 => service.SubmitTransaction(TransactionRequest.Parser.ParseFrom(body), context),
                7 => WatchOnce(service, WatchRequest.Parser.ParseFrom(body), context, cancel),
                _ => service.GetAccount(AccountRequest.Parser.ParseFrom(body), context),
            };
            call.GetAwaiter().GetResult();
            return FuzzOutcome.Accepted;
        }
        catch (InvalidProtocolBufferException)
        {
            return FuzzOutcome.Refused; // the server answers this itself, before any handler runs
        }
        catch (RpcException)
        {
            return FuzzOutcome.Refused;
        }
    }

    /// <summary>WatchRounds streams until the node leaves: let it send the current state, then leave.</summary>
    private static Task WatchOnce(CoordinatorService service, WatchRequest request, ServerCallContext context, CancellationTokenSource cancel)
    {
        var watch = service.WatchRounds(request, new FuzzStreamWriter<RoundEvent>(), context);
        cancel.Cancel();
        return watch;
    }

    private static byte[] Generate(DeterministicRandom rng, string address)
    {
        var text = CsCheck.Gen.Frequency(
            (3, CsCheck.Gen.OneOf(address, address.ToLowerInvariant(), address.ToUpperInvariant(), new string('a', 64), new string('0', 32), "", "0x", "../../etc/passwd", "0x" + new string('A', 64))),
            (2, CsCheck.Gen.String[CsCheck.Gen.Char["0123456789abcdefABCDEFx./"], 0, 70]),
            (1, CsCheck.Gen.String));
        var number = CsCheck.Gen.Frequency((3, CsCheck.Gen.OneOf(Interesting.Integers)), (2, CsCheck.Gen.ULong[0, 10]), (1, CsCheck.Gen.ULong));
        var bytes = CsCheck.Gen.Byte[0, 255].Array[0, 80];
        var method = rng.NextInt(Methods.Length);
        IMessage message = method switch
        {
            0 => new HelloRequest { Address = text.Draw(rng) },
            1 => new AuthenticateRequest { Address = text.Draw(rng), Challenge = ByteString.CopyFrom(bytes.Draw(rng)), ExpiresUnixMs = number.Draw(rng), Signature = ByteString.CopyFrom(bytes.Draw(rng)) },
            2 => new InfoRequest(),
            3 => new BeginUploadRequest { TaskId = number.Draw(rng), Round = (uint)number.Draw(rng), Sha256 = text.Draw(rng), Size = (long)number.Draw(rng) },
            4 => new UploadChunk { UploadId = text.Draw(rng), Offset = (long)number.Draw(rng), Data = ByteString.CopyFrom(bytes.Draw(rng)) },
            5 => new DownloadRequest { Sha256 = text.Draw(rng), Offset = (long)number.Draw(rng) },
            6 => new TransactionRequest { SignedJson = rng.NextInt(2) == 0 ? text.Draw(rng) : System.Text.Encoding.UTF8.GetString(LedgerTargets.Transaction().Generate!(rng)) },
            7 => new WatchRequest { TaskId = number.Draw(rng) },
            _ => new AccountRequest { Address = text.Draw(rng) },
        };
        return [(byte)(method + (rng.NextInt(4) == 0 ? 0 : 128)), .. message.ToByteArray()];
    }
}
