using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;
using Skein.Protocol.V1;

using Skein.Core;

namespace Skein.Node;

/// <summary>An account as the coordinator reports it.</summary>
public sealed record AccountState(ulong Nonce, UInt128 Balance, UInt128 TrainerStake, UInt128 ValidatorStake, IReadOnlyList<ulong> TrainerOf, IReadOnlyList<ulong> ValidatorOf);

/// <summary>
/// A node's authenticated channel to a coordinator: signs in with a login proof, then downloads (checking every
/// hash), uploads (resuming from the offset the coordinator reports) and submits signed transactions.
/// </summary>
public sealed class CoordinatorConnection : IDisposable
{
    private const int UploadChunkBytes = 1 << 20;
    private readonly GrpcChannel _channel;
    private readonly Protocol.V1.Coordinator.CoordinatorClient _client;
    private readonly LedgerKey _key;
    private Metadata? _auth;

    /// <summary>
    /// A connection to <paramref name="coordinator"/> for <paramref name="key"/>; with https, <paramref name="pinnedCertificate"/>
    /// (if any) is trusted instead of the system's roots; <paramref name="wrapTransport"/> wraps the HTTP handler (fault drills).
    /// </summary>
    public CoordinatorConnection(Uri coordinator, LedgerKey key, System.Security.Cryptography.X509Certificates.X509Certificate2? pinnedCertificate = null,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapTransport = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        _key = key ?? throw new ArgumentNullException(nameof(key));
        _channel = GrpcChannel.ForAddress(coordinator, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 16 << 20,
            MaxSendMessageSize = 16 << 20,
            // Large windows for model downloads (see the coordinator's Kestrel limits).
            HttpHandler = wrapTransport is null ? CertificatePin.Handler(pinnedCertificate) : wrapTransport(CertificatePin.Handler(pinnedCertificate)),
        });
        _client = new Protocol.V1.Coordinator.CoordinatorClient(_channel);
    }

    public ulong ChainId { get; private set; }

    public Address Address => _key.Address;

    public Protocol.V1.Coordinator.CoordinatorClient Client => _client;

    public Metadata Auth => _auth ?? throw new InvalidOperationException("not signed in");

    /// <summary>Proves the node's address and opens a session.</summary>
    public async Task SignInAsync(CancellationToken cancellationToken)
    {
        var hello = await _client.HelloAsync(new HelloRequest { Address = _key.Address.ToString() }, cancellationToken: cancellationToken);
        ChainId = hello.ChainId;
        var challenge = new Hash32(hello.Challenge.Span);
        var signature = LoginProof.Sign(_key, hello.ChainId, challenge, hello.ExpiresUnixMs);
        var reply = await _client.AuthenticateAsync(new AuthenticateRequest
        {
            Address = _key.Address.ToString(),
            Challenge = hello.Challenge,
            ExpiresUnixMs = hello.ExpiresUnixMs,
            Signature = ByteString.CopyFrom(signature),
        }, cancellationToken: cancellationToken);
        _auth = new Metadata { { "authorization", "Bearer " + reply.Token } };
    }

    public async Task<AccountState> AccountAsync(CancellationToken cancellationToken)
    {
        var a = await _client.GetAccountAsync(new AccountRequest { Address = _key.Address.ToString() }, cancellationToken: cancellationToken);
        return new AccountState(a.Nonce, UInt128.Parse(a.Balance, CultureInfo.InvariantCulture), UInt128.Parse(a.TrainerStake, CultureInfo.InvariantCulture),
            UInt128.Parse(a.ValidatorStake, CultureInfo.InvariantCulture), [.. a.TrainerOf], [.. a.ValidatorOf]);
    }

    /// <summary>Signs the transaction with the node's next nonce and submits it.</summary>
    public async Task<TransactionReply> SendAsync(Func<Address, ulong, Transaction> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(build);
        var nonce = (await AccountAsync(cancellationToken)).Nonce;
        var signed = _key.SignTransaction(build(_key.Address, nonce), ChainId) with { ChainId = ChainId };
        return await _client.SubmitTransactionAsync(new TransactionRequest { SignedJson = signed.ToJson() }, Auth, cancellationToken: cancellationToken);
    }

    /// <summary>Downloads a blob and checks that its bytes hash to the name it was asked for.</summary>
    public async Task<byte[]> DownloadAsync(string sha256, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using var call = _client.Download(new DownloadRequest { Sha256 = sha256, Offset = 0 }, Auth, cancellationToken: cancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            chunk.Data.WriteTo(buffer);
        }
        var bytes = buffer.ToArray();
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return actual == sha256 ? bytes : throw new InvalidDataException($"download: blob {sha256} arrived with SHA-256 {actual}");
    }

    /// <summary>
    /// Uploads an update for a round and returns its SHA-256 as the coordinator stored it: declares its size, sends
    /// what the coordinator does not have yet (all of it, or the rest after an interruption), hashing while it sends,
    /// and declares the hash on the last chunk. For fault drills, <paramref name="stallAfterChunks"/> sends that many
    /// chunks and then hangs with the stream open.
    /// </summary>
    public async Task<string> UploadAsync(ulong taskId, uint round, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken, int? stallAfterChunks = null)
    {
        var begin = await _client.BeginUploadAsync(new BeginUploadRequest { TaskId = taskId, Round = round, Size = bytes.Length }, Auth, cancellationToken: cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A resumed upload: the coordinator has the first bytes; the hash still covers them.
        hash.AppendData(bytes.Span[..(int)begin.Offset]);
        using var call = _client.UploadChunks(Auth, cancellationToken: cancellationToken);
        var offset = (int)begin.Offset;
        do
        {
            var length = Math.Min(UploadChunkBytes, bytes.Length - offset);
            var data = bytes.Slice(offset, length);
            hash.AppendData(data.Span);
            var last = offset + length == bytes.Length;
            await call.RequestStream.WriteAsync(new UploadChunk
            {
                UploadId = begin.UploadId,
                Offset = offset,
                Data = UnsafeByteOperations.UnsafeWrap(data),
                // An empty chunk still completes an upload whose bytes had all arrived before an interruption.
                Sha256 = last ? Convert.ToHexStringLower(hash.GetCurrentHash()) : "",
            }, cancellationToken);
            offset += length;
            if (--stallAfterChunks == 0)
            {
                await Console.Error.WriteLineAsync($"upload stalled after {offset} of {bytes.Length} bytes");
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }
        while (offset < bytes.Length);
        await call.RequestStream.CompleteAsync();
        var reply = await call.ResponseAsync;
        var sha = Convert.ToHexStringLower(hash.GetCurrentHash());
        return reply.Sha256 == sha ? sha : throw new InvalidDataException($"upload: the coordinator stored {reply.Sha256}, but the update hashes to {sha}");
    }

    public void Dispose() => _channel.Dispose();
}
