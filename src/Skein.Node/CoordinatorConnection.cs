using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
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
    private readonly HttpClient _http;
    private readonly Uri _uploads;
    private readonly Protocol.V1.Coordinator.CoordinatorClient _client;
    private readonly LedgerKey _key;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private Metadata? _auth;
    private ulong? _nextNonce;

    /// <summary>
    /// A connection to <paramref name="coordinator"/> for <paramref name="key"/>; with https, <paramref name="pinnedCertificate"/>
    /// (if any) is trusted instead of the system's roots; <paramref name="wrapTransport"/> wraps the HTTP handler (fault drills).
    /// </summary>
    public CoordinatorConnection(Uri coordinator, LedgerKey key, System.Security.Cryptography.X509Certificates.X509Certificate2? pinnedCertificate = null,
        Func<HttpMessageHandler, HttpMessageHandler>? wrapTransport = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        _key = key ?? throw new ArgumentNullException(nameof(key));
        var handler = wrapTransport is null ? CertificatePin.Handler(pinnedCertificate) : wrapTransport(CertificatePin.Handler(pinnedCertificate));
        _channel = GrpcChannel.ForAddress(coordinator, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 16 << 20,
            MaxSendMessageSize = 16 << 20,
            // Large windows for model downloads (see the coordinator's Kestrel limits).
            HttpHandler = handler,
        });
        // Uploads share the channel's handler, and so its connection; the channel leaves the handler to this client.
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _uploads = new Uri(coordinator, "/skein.v1/uploads");
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

    /// <summary>
    /// Signs the transaction with the node's next nonce and submits it. The nonce is asked for once and then counted
    /// here, one transaction at a time, which saves a round trip per transaction; when the ledger says the nonce is
    /// wrong (the key also signed elsewhere, or a reply was lost), it is asked for again and the transaction, not
    /// applied, is signed again once.
    /// </summary>
    public async Task<TransactionReply> SendAsync(Func<Address, ulong, Transaction> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(build);
        await _sending.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var counted = _nextNonce is not null;
                var nonce = _nextNonce ?? (await AccountAsync(cancellationToken)).Nonce;
                _nextNonce = null;
                var signed = _key.SignTransaction(build(_key.Address, nonce), ChainId) with { ChainId = ChainId };
                try
                {
                    var reply = await _client.SubmitTransactionAsync(new TransactionRequest { SignedJson = signed.ToJson() }, Auth, cancellationToken: cancellationToken);
                    _nextNonce = nonce + 1;
                    return reply;
                }
                catch (RpcException ex) when (counted && attempt == 0 && ex.StatusCode == StatusCode.AlreadyExists
                    && ex.Status.Detail.StartsWith(nameof(LedgerError.BadNonce), StringComparison.Ordinal))
                {
                    // The counted nonce was stale; the ledger's own is asked for on the next pass.
                }
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// Downloads a blob into a file, a chunk at a time, and checks its hash before the file appears under
    /// <paramref name="path"/>: memory for one chunk, whatever the blob's size.
    /// </summary>
    public async Task DownloadToFileAsync(string sha256, string path, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                using var call = _client.Download(new DownloadRequest { Sha256 = sha256, Offset = 0 }, Auth, cancellationToken: cancellationToken);
                await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    hash.AppendData(chunk.Data.Span);
                    await file.WriteAsync(chunk.Data.Memory, cancellationToken);
                }
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != sha256)
            {
                throw new InvalidDataException($"download: blob {sha256} arrived with SHA-256 {actual}");
            }
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            // Refused, cut off or cancelled: nothing half-written stays to be mistaken for the blob.
            File.Delete(partial);
        }
    }

    /// <summary>Downloads a blob and checks that its bytes hash to the name it was asked for.</summary>
    public async Task<byte[]> DownloadAsync(string sha256, CancellationToken cancellationToken)
    {
        // Into one array of the size the first chunk announces, not a stream that doubles and is then copied: for a
        // 13 MB CNN model that was three times the model in garbage on the large-object heap, every round.
        using var call = _client.Download(new DownloadRequest { Sha256 = sha256, Offset = 0 }, Auth, cancellationToken: cancellationToken);
        byte[]? bytes = null;
        var filled = 0;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            bytes ??= chunk.TotalSize >= 0 && chunk.TotalSize <= Array.MaxLength
                ? new byte[chunk.TotalSize]
                : throw new InvalidDataException($"download: blob {sha256}: total_size {chunk.TotalSize} is not a size one array can hold");
            if (chunk.Data.Length > bytes.Length - filled)
            {
                throw new InvalidDataException($"download: blob {sha256} sent more than the {bytes.Length} bytes it announced");
            }
            chunk.Data.Span.CopyTo(bytes.AsSpan(filled));
            filled += chunk.Data.Length;
        }
        bytes ??= [];
        if (filled != bytes.Length)
        {
            throw new InvalidDataException($"download: blob {sha256} ended at byte {filled} of the {bytes.Length} it announced");
        }
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return actual == sha256 ? bytes : throw new InvalidDataException($"download: blob {sha256} arrived with SHA-256 {actual}");
    }

    /// <summary>
    /// Uploads an update for a round and returns its SHA-256 as the coordinator stored it, in one HTTP/2 request
    /// (<c>PUT /skein.v1/uploads</c>, beside the gRPC API): sends what the coordinator does not have yet (all of it,
    /// or the rest after an interruption), hashing while it sends, and checks the hash the coordinator answers with
    /// against its own. Refusals are <see cref="RpcException"/>s with the coordinator's status and reason, as from
    /// the gRPC calls. For fault drills, <paramref name="stallAfterChunks"/> sends that many chunks and then hangs
    /// with the request open.
    /// </summary>
    public async Task<string> UploadAsync(ulong taskId, uint round, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken, int? stallAfterChunks = null)
    {
        long offset = 0;
        // Bounded: a 409 names the offset the coordinator holds, and the next attempt starts there.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            // A resumed upload: the coordinator has the first bytes; the hash still covers them.
            hash.AppendData(bytes.Span[..(int)offset]);
            using var request = new HttpRequestMessage(HttpMethod.Put, _uploads)
            {
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new UpdateContent(bytes[(int)offset..], hash, stallAfterChunks),
            };
            request.Headers.TryAddWithoutValidation("authorization", Auth.GetValue("authorization"));
            // A refusal or another offset comes back before the body is sent.
            request.Headers.ExpectContinue = true;
            request.Headers.Add("skein-task", taskId.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("skein-round", round.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("skein-size", bytes.Length.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("skein-offset", offset.ToString(CultureInfo.InvariantCulture));
            using var response = await _http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.Conflict
                && response.Headers.TryGetValues("skein-offset", out var values) && long.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, out var held) && held >= 0 && held <= bytes.Length)
            {
                offset = held;
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                var code = response.Headers.TryGetValues("skein-status", out var status) && int.TryParse(status.FirstOrDefault(), CultureInfo.InvariantCulture, out var c)
                    ? (StatusCode)c
                    : (int)response.StatusCode >= 500 ? StatusCode.Unavailable : StatusCode.Unknown;
                throw new RpcException(new Status(code, text));
            }
            using var reply = JsonDocument.Parse(text);
            var stored = reply.RootElement.GetProperty("sha256").GetString();
            var sha = Convert.ToHexStringLower(hash.GetCurrentHash());
            return stored == sha ? sha : throw new InvalidDataException($"upload: the coordinator stored {stored}, but the update hashes to {sha}");
        }
        throw new RpcException(new Status(StatusCode.Aborted, "upload: the coordinator kept naming another offset"));
    }

    /// <summary>An update's bytes as a request body, hashed as they are written; for drills, it hangs after some chunks.</summary>
    private sealed class UpdateContent(ReadOnlyMemory<byte> bytes, IncrementalHash hash, int? stallAfterChunks) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            var stall = stallAfterChunks;
            for (var offset = 0; offset < bytes.Length;)
            {
                var chunk = bytes.Slice(offset, Math.Min(UploadChunkBytes, bytes.Length - offset));
                // Hashed on another thread while the same bytes go out: sending waits on the socket, hashing on the CPU.
                var hashing = Task.Run(() => hash.AppendData(chunk.Span), CancellationToken.None);
                try
                {
                    await stream.WriteAsync(chunk, cancellationToken);
                }
                finally
                {
                    await hashing;
                }
                offset += chunk.Length;
                if (--stall == 0)
                {
                    await stream.FlushAsync(cancellationToken);
                    await Console.Error.WriteLineAsync($"upload stalled after {offset} of {bytes.Length} bytes");
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    public void Dispose()
    {
        _sending.Dispose();
        _channel.Dispose();
        _http.Dispose();
    }
}
