using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Skein.Coordinator.Blobs;
using Skein.Coordinator.Sessions;
using Skein.Coordinator.State;
using Skein.Core;
using Skein.Learning.Tasks;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Grpc;

/// <summary>
/// The node-facing gRPC API. Every refusal is an RpcException whose status and detail name the reason (bad
/// signature, not picked, late, hash mismatch, wrong tensor, non-finite value, over the size limit...), and a
/// refused upload is deleted: it is stored nowhere.
/// </summary>
public sealed class CoordinatorService(CoordinatorContext coordinator) : Protocol.V1.Coordinator.CoordinatorBase
{
    // Below the large-object heap's 85,000 bytes: each message's copy is short-lived gen0 garbage. At 1 MiB every
    // download left a megabyte on the large-object heap until a full collection (skein bench memory).
    internal const int DownloadChunkBytes = 64 << 10;

    public override Task<HelloReply> Hello(HelloRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var address = ParseAddress(request.Address, "address");
        var (challenge, expires) = coordinator.Sessions.IssueChallenge(address);
        return Task.FromResult(new HelloReply { Challenge = ByteString.CopyFrom(challenge.Bytes), ExpiresUnixMs = expires, ChainId = coordinator.Ledger.ChainId });
    }

    public override Task<AuthenticateReply> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var address = ParseAddress(request.Address, "address");
        if (request.Challenge.Length != 32)
        {
            throw Refuse(StatusCode.InvalidArgument, "challenge: must be the 32 bytes Hello returned");
        }
        try
        {
            var (token, expires) = coordinator.Sessions.Authenticate(address, new Hash32(request.Challenge.Span), request.ExpiresUnixMs, request.Signature.Span);
            return Task.FromResult(new AuthenticateReply { Token = token, ExpiresUnixMs = (ulong)expires.ToUnixTimeMilliseconds() });
        }
        catch (SessionException ex)
        {
            throw Refuse(StatusCode.Unauthenticated, ex.Message);
        }
    }

    public override async Task<InfoReply> GetInfo(InfoRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reply = new InfoReply { ChainId = coordinator.Ledger.ChainId, Coordinator = coordinator.Key.Address.ToString() };
        foreach (var hosted in coordinator.Index.Tasks())
        {
            var task = await coordinator.Ledger.GetTaskAsync((ulong)hosted.TaskId, context.CancellationToken);
            reply.Tasks.Add(new TaskSummary
            {
                TaskId = (ulong)hosted.TaskId,
                SpecJson = hosted.SpecJson,
                SpecHash = task?.SpecHash.ToString() ?? "",
                Rounds = task?.Rounds ?? 0,
                SettledRounds = task?.SettledRounds ?? 0,
            });
        }
        return reply;
    }

    public override async Task<BeginUploadReply> BeginUpload(BeginUploadRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return await OpenUploadAsync(Session(context), request, context.CancellationToken);
    }

    /// <summary>BeginUpload for <paramref name="node"/>, whatever the transport; refusals are <see cref="RpcException"/>s.</summary>
    internal async Task<BeginUploadReply> OpenUploadAsync(Address node, BeginUploadRequest request, CancellationToken cancellationToken)
    {
        var round = await coordinator.Ledger.GetRoundAsync(request.TaskId, request.Round, cancellationToken)
            ?? throw Refuse(StatusCode.FailedPrecondition, $"round: round {request.Round} of task {request.TaskId} is not open");
        if (round.Phase != RoundPhase.Training)
        {
            throw Refuse(StatusCode.FailedPrecondition, $"round: round {request.Round} of task {request.TaskId} no longer takes updates (late): it is {round.Phase.ToString().ToLowerInvariant()}");
        }
        if (!round.PickedTrainers.Contains(node))
        {
            throw Refuse(StatusCode.PermissionDenied, $"from: {node} was not picked to train in round {request.Round} of task {request.TaskId}");
        }
        var (limit, source) = UpdateLimit(request.TaskId);
        if (request.Size > limit)
        {
            throw Refuse(StatusCode.InvalidArgument, $"size: {request.Size} bytes exceeds the limit of {limit} bytes per update of task {request.TaskId} ({source})");
        }
        try
        {
            // Without a hash (declared on the last chunk), the upload is found again by its task and round.
            var scope = request.Sha256.Length == 0 ? Invariant($"task {request.TaskId} round {request.Round}") : null;
            var handle = await coordinator.Blobs.BeginUploadAsync(request.Sha256, request.Size, node.ToLowerHex(), scope, cancellationToken);
            if (handle.AlreadyStored)
            {
                // Content addressing: the same bytes are stored already; still check them against this task.
                await ValidateStoredUpdate(request.TaskId, request.Sha256, cancellationToken);
                coordinator.Index.BeginUpload(new UploadRecord("stored-" + request.Sha256 + "-" + node.ToLowerHex(), (long)request.TaskId, request.Round, node.ToLowerHex(), request.Sha256, request.Size, "valid", null));
                return new BeginUploadReply { UploadId = "", Offset = request.Size, AlreadyStored = true };
            }
            coordinator.Index.BeginUpload(new UploadRecord(handle.UploadId, (long)request.TaskId, request.Round, node.ToLowerHex(), request.Sha256, request.Size, "open", null));
            return new BeginUploadReply { UploadId = handle.UploadId, Offset = handle.Offset };
        }
        catch (BlobException ex)
        {
            throw Refuse(StatusCode.InvalidArgument, ex.Message);
        }
    }

    public override async Task<UploadReply> UploadChunks(IAsyncStreamReader<UploadChunk> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        var node = Session(context);
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
        {
            throw Refuse(StatusCode.InvalidArgument, "stream: no chunk was sent");
        }
        var first = requestStream.Current;
        var declared = new DeclaredHash();
        return await ReceiveUploadAsync(node, first.UploadId, first.Offset, Chunks(first, requestStream, declared, ct), () => declared.Sha256 ?? "", ct);
    }

    /// <summary>
    /// Receives an upload's bytes from <paramref name="offset"/> on, checking an update from byte 0 as it arrives,
    /// and completes it under the hash <paramref name="declaredSha256"/> gives once the bytes are in (the manifest's
    /// if it has one; null: the hash of what arrived, which the sender compares with its own).
    /// </summary>
    internal async Task<UploadReply> ReceiveUploadAsync(Address node, string uploadId, long offset, IAsyncEnumerable<ReadOnlyMemory<byte>> data, Func<string?> declaredSha256, CancellationToken ct)
    {
        var upload = coordinator.Index.Upload(uploadId) ?? throw Refuse(StatusCode.NotFound, $"upload_id: no upload {uploadId}; call BeginUpload");
        if (upload.Trainer != node.ToLowerHex())
        {
            throw Refuse(StatusCode.PermissionDenied, $"upload_id: upload {uploadId} belongs to another node");
        }
        // From byte 0 the update is checked as it arrives (no read-back); a resumed upload is checked from disk.
        var check = offset == 0 ? StreamingCheck((ulong)upload.TaskId, upload.Size) : null;
        try
        {
            var received = await coordinator.Blobs.AppendAsync(uploadId, offset, Checked(data, check, ct), ct);
            if (received < upload.Size)
            {
                // The stream ended early (a dropped connection or a deliberate pause): the node resumes from here.
                throw Refuse(StatusCode.FailedPrecondition, $"truncated: received {received} of {upload.Size} bytes; resume with BeginUpload");
            }
            var hash = await coordinator.Blobs.CompleteAsync(uploadId, declaredSha256(), acceptReceived: true, ct);
            if (check is not { Covered: true })
            {
                await ValidateStoredUpdate((ulong)upload.TaskId, hash, ct);
            }
            coordinator.Index.Finish(uploadId, "valid", sha256: hash);
            return new UploadReply { Sha256 = hash, Size = upload.Size };
        }
        catch (BlobException ex)
        {
            coordinator.Index.Finish(uploadId, "refused", ex.Message);
            throw Refuse(StatusCode.InvalidArgument, ex.Message);
        }
        catch (UpdateRejectedException ex)
        {
            if (check is not null)
            {
                // Refused mid-stream: what arrived can never become a valid update, so it is not kept for a resume.
                try
                {
                    await coordinator.Blobs.AbortAsync(uploadId, CancellationToken.None);
                }
                catch (BlobException)
                {
                    // already gone
                }
            }
            coordinator.Index.Finish(uploadId, "refused", ex.Reason);
            throw Refuse(StatusCode.InvalidArgument, ex.Reason);
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Checked(IAsyncEnumerable<ReadOnlyMemory<byte>> data, StreamingUpdateCheck? check,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in data.WithCancellation(cancellationToken))
        {
            // Checked before it is written: a refused byte never reaches the disk.
            check?.Feed(chunk.Span);
            yield return chunk;
        }
    }

    /// <summary>A check of an update as it arrives, or null where only a check of the whole file can do (an adapter in exact mode).</summary>
    private StreamingUpdateCheck? StreamingCheck(ulong taskId, long size)
    {
        var hosted = coordinator.Index.Task(taskId) ?? throw Refuse(StatusCode.NotFound, $"task_id: this coordinator does not host task {taskId}");
        var (layout, exact) = Layouts.GetOrAdd(hosted.SpecJson, json =>
        {
            var spec = TaskSpec.Parse(json);
            return (TaskModels.Layout(spec), spec.IsFineTuning && spec.Model.Adapter?.Mode == "exact");
        });
        return exact ? null : new StreamingUpdateCheck(layout, size);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ParameterLayout, bool)> Layouts = new(StringComparer.Ordinal);

    /// <summary>The hash the last chunk of an upload declared, if it did.</summary>
    private sealed class DeclaredHash
    {
        public string? Sha256 { get; set; }
    }

    public override async Task Download(DownloadRequest request, IServerStreamWriter<DownloadChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        Session(context);
        try
        {
            // Inside the try: SizeOf refuses a sha256 that is not 64 lowercase hex digits with a BlobException.
            var size = coordinator.Blobs.SizeOf(request.Sha256) ?? throw Refuse(StatusCode.NotFound, $"sha256: no blob {request.Sha256}");
            await foreach (var chunk in coordinator.Blobs.ReadAsync(request.Sha256, request.Offset, DownloadChunkBytes, context.CancellationToken))
            {
                // The store reuses its buffer for the next chunk, so the message takes a copy.
                await responseStream.WriteAsync(new DownloadChunk { Data = ByteString.CopyFrom(chunk.Span), TotalSize = size }, context.CancellationToken);
            }
        }
        catch (BlobException ex)
        {
            throw Refuse(StatusCode.InvalidArgument, ex.Message);
        }
    }

    public override async Task<TransactionReply> SubmitTransaction(TransactionRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var node = Session(context);
        SignedTransaction signed;
        try
        {
            signed = SignedTransaction.FromJson(request.SignedJson);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException or NotSupportedException)
        {
            throw Refuse(StatusCode.InvalidArgument, $"signed_json: not a signed transaction: {ex.Message}");
        }
        if (signed.Tx.From != node)
        {
            throw Refuse(StatusCode.PermissionDenied, $"from: this session belongs to {node}, the transaction to {signed.Tx.From}");
        }
        if (signed.Tx is SubmitUpdate update
            && !coordinator.Index.HasValidUpload(update.TaskId, update.Round, node.ToLowerHex(), update.UpdateHash.ToString()[2..]))
        {
            throw Refuse(StatusCode.FailedPrecondition, $"update_hash: {update.UpdateHash} was not uploaded and checked for round {update.Round} of task {update.TaskId}; upload it first");
        }
        try
        {
            var receipt = await coordinator.Ledger.SubmitAsync(signed, context.CancellationToken);
            if (signed.Tx is RoundTransaction rt)
            {
                coordinator.Events.Nudge(rt.TaskId);
            }
            return new TransactionReply { Id = receipt.Id.ToString(), Block = receipt.BlockHeight };
        }
        catch (LedgerException ex)
        {
            throw Refuse(ex.Code switch
            {
                LedgerError.BadSignature or LedgerError.WrongChain => StatusCode.Unauthenticated,
                LedgerError.NotPicked or LedgerError.NotCoordinator or LedgerError.InsufficientStake => StatusCode.PermissionDenied,
                LedgerError.BadNonce or LedgerError.AlreadySubmitted => StatusCode.AlreadyExists,
                LedgerError.WrongPhase or LedgerError.RoundNotOpen => StatusCode.FailedPrecondition,
                _ => StatusCode.InvalidArgument,
            }, $"{ex.Code}: {ex.Message}");
        }
    }

    public override async Task WatchRounds(WatchRequest request, IServerStreamWriter<RoundEvent> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        Session(context);
        var events = coordinator.Events.WatchAsync(request.TaskId, context.CancellationToken);
        if (await RoundEventFactory.CurrentAsync(coordinator.Ledger, request.TaskId, context.CancellationToken) is { } current)
        {
            await responseStream.WriteAsync(current, context.CancellationToken);
        }
        try
        {
            await foreach (var e in events)
            {
                await responseStream.WriteAsync(e, context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // the node went away
        }
    }

    public override async Task WatchUpdates(WatchUpdatesRequest request, IServerStreamWriter<UpdateNotice> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        Session(context);
        var ct = context.CancellationToken;
        var sent = (int)request.FromIndex;
        try
        {
            // Ends with the training phase (or the call); between changes it waits for the next accepted
            // transaction of the task, and looks again every second in case a change came another way.
            while (true)
            {
                var changed = coordinator.Events.NextChange(request.TaskId);
                var round = await coordinator.Ledger.GetRoundAsync(request.TaskId, request.Round, ct)
                    ?? throw Refuse(StatusCode.NotFound, $"round: task {request.TaskId} has no round {request.Round}");
                for (; sent < round.Updates.Count; sent++)
                {
                    await responseStream.WriteAsync(new UpdateNotice { Index = (uint)sent, Sha256 = RoundEventFactory.Hex(round.Updates[sent].UpdateHash), Trainer = round.Updates[sent].Trainer.ToString() }, ct);
                }
                if (round.Phase != RoundPhase.Training)
                {
                    return;
                }
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(1), ct));
                ct.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the node went away
        }
    }

    public override async Task<AccountReply> GetAccount(AccountRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var address = ParseAddress(request.Address, "address");
        var ct = context.CancellationToken;
        var ledger = coordinator.Ledger;
        var trainer = await ledger.GetStakeAsync(address, Role.Trainer, ct);
        var validator = await ledger.GetStakeAsync(address, Role.Validator, ct);
        var reply = new AccountReply
        {
            Nonce = await ledger.GetNonceAsync(address, ct),
            Balance = (await ledger.GetBalanceAsync(address, ct)).ToString(CultureInfo.InvariantCulture),
            TrainerStake = (trainer.Self + trainer.Delegated).ToString(CultureInfo.InvariantCulture),
            ValidatorStake = (validator.Self + validator.Delegated).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var task in await ledger.ListTasksAsync(ct))
        {
            if (task.Trainers.Contains(address))
            {
                reply.TrainerOf.Add(task.Id);
            }
            if (task.Validators.Contains(address))
            {
                reply.ValidatorOf.Add(task.Id);
            }
        }
        return reply;
    }

    /// <summary>
    /// The size limit of one update of a task: its spec's <c>max_update_bytes</c>, else the size of one update of
    /// its model (plus room for header metadata), and never more than the coordinator's own limit.
    /// </summary>
    private (long Limit, string Source) UpdateLimit(ulong taskId)
    {
        var hosted = coordinator.Index.Task(taskId) ?? throw Refuse(StatusCode.NotFound, $"task_id: this coordinator does not host task {taskId}");
        var (limit, source) = Limits.GetOrAdd(hosted.SpecJson, json =>
        {
            var spec = TaskSpec.Parse(json);
            if (spec.MaxUpdateBytes is { } own)
            {
                return (own, "the task's max_update_bytes");
            }
            var layout = TaskModels.Layout(spec);
            return (layout.ToSafeTensors(new float[layout.TotalCount]).Length + 4096L, spec.IsFineTuning ? $"one {spec.Model} adapter update" : $"one {spec.Model} update");
        });
        return limit <= coordinator.Options.MaxUpdateBytes ? (limit, source) : (coordinator.Options.MaxUpdateBytes, "the coordinator's --max-update-bytes");
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long, string)> Limits = new(StringComparer.Ordinal);

    private async Task ValidateStoredUpdate(ulong taskId, string sha256, CancellationToken cancellationToken)
    {
        var hosted = coordinator.Index.Task(taskId) ?? throw Refuse(StatusCode.NotFound, $"task_id: this coordinator does not host task {taskId}");
        var spec = TaskSpec.Parse(hosted.SpecJson);
        var bytes = await coordinator.Blobs.ReadAllAsync(sha256, cancellationToken);
        try
        {
            var delta = SafeTensorsValidator.ReadUpdate(bytes, TaskModels.Layout(spec));
            if (TaskModels.CheckFrozen(spec, delta) is { } frozen)
            {
                throw new UpdateRejectedException(frozen);
            }
        }
        catch (UpdateRejectedException)
        {
            // Stored nowhere: the bytes of a refused update do not stay on the coordinator.
            coordinator.Blobs.Delete(sha256);
            throw;
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(UploadChunk first, IAsyncStreamReader<UploadChunk> rest, DeclaredHash declared,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunk = first;
        while (true)
        {
            if (chunk.Sha256.Length != 0)
            {
                declared.Sha256 = chunk.Sha256;
            }
            yield return chunk.Data.Memory;
            if (!await rest.MoveNext(cancellationToken))
            {
                yield break;
            }
            chunk = rest.Current;
        }
    }

    /// <summary>The node a request's session token names; refused as Unauthenticated otherwise.</summary>
    internal Address Session(string? authorization)
    {
        try
        {
            return coordinator.Sessions.Resolve(authorization);
        }
        catch (SessionException ex)
        {
            throw Refuse(StatusCode.Unauthenticated, ex.Message);
        }
    }

    private Address Session(ServerCallContext call)
    {
        try
        {
            return coordinator.Sessions.Resolve(call.RequestHeaders.GetValue("authorization"));
        }
        catch (SessionException ex)
        {
            throw Refuse(StatusCode.Unauthenticated, ex.Message);
        }
    }

    private static Address ParseAddress(string text, string field)
    {
        try
        {
            return Address.Parse(text, field);
        }
        catch (FormatException ex)
        {
            throw Refuse(StatusCode.InvalidArgument, ex.Message);
        }
    }

    internal static RpcException Refuse(StatusCode code, string reason) => new(new Status(code, reason));

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
