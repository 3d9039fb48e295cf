using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Grpc;

/// <summary>
/// Update uploads as one plain HTTP/2 request on the gRPC port: <c>PUT /skein.v1/uploads</c> opens (or resumes)
/// the upload and streams its bytes in the body, straight from Kestrel's buffers to the hash, the checks and the
/// disk. The same rules and words as <c>BeginUpload</c> and <c>UploadChunks</c>, whose logic it shares; the
/// transport carries the bytes at the speed of a bare POST instead of copying each gRPC message.
/// </summary>
/// <remarks>
/// Headers: <c>authorization</c> (the session), <c>skein-task</c>, <c>skein-round</c>, <c>skein-size</c> and
/// <c>skein-offset</c> (where the body starts). When the coordinator holds a different number of bytes of this
/// upload, it answers 409 with the right <c>skein-offset</c> before reading the body. The answer is
/// <c>{"sha256":..,"size":..}</c>: the hash of what arrived, which the sender compares with its own. A refusal
/// carries the gRPC status code in <c>skein-status</c> and the reason as text.
/// </remarks>
public static class UploadEndpoint
{
    /// <summary>The path of the endpoint.</summary>
    public const string Path = "/skein.v1/uploads";

    public const string TaskHeader = "skein-task";
    public const string RoundHeader = "skein-round";
    public const string SizeHeader = "skein-size";
    public const string OffsetHeader = "skein-offset";
    public const string StatusHeader = "skein-status";

    /// <summary>Maps the endpoint onto <paramref name="app"/>.</summary>
    public static void MapUploads(this IEndpointRouteBuilder app) => app.MapPut(Path, HandleAsync);

    private static async Task HandleAsync(HttpContext http, CoordinatorContext coordinator)
    {
        var ct = http.RequestAborted;
        var service = new CoordinatorService(coordinator);
        var reading = false;
        try
        {
            var node = service.Session(http.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null);
            var request = new BeginUploadRequest
            {
                TaskId = Header<ulong>(http, TaskHeader),
                Round = Header<uint>(http, RoundHeader),
                Size = Header<long>(http, SizeHeader),
            };
            var offset = Header<long>(http, OffsetHeader);
            var begin = await service.OpenUploadAsync(node, request, ct);
            if (begin.Offset != offset)
            {
                http.Response.StatusCode = StatusCodes.Status409Conflict;
                http.Response.Headers[OffsetHeader] = begin.Offset.ToString(CultureInfo.InvariantCulture);
                await http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"offset: the coordinator holds {begin.Offset} bytes of this upload; send from there"), ct);
                return;
            }
            // The declared size bounds the body, not the JSON limit.
            if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = request.Size - offset;
            }
            reading = true;
            var reply = await service.ReceiveUploadAsync(node, begin.UploadId, offset, Body(http.Request.BodyReader, ct), () => null, ct);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $$"""{"sha256":"{{reply.Sha256}}","size":{{reply.Size}}}"""), ct);
        }
        catch (RpcException ex) when (!http.Response.HasStarted)
        {
            if (reading)
            {
                // Refused mid-body: the rest is read and dropped (at most the declared size), so that the sender,
                // still writing, gets this answer instead of a reset stream. Refusals before the body need no
                // such thing: the sender asks "Expect: 100-continue" and sends nothing until the body is read.
                await Drain(http.Request.BodyReader);
            }
            http.Response.StatusCode = ex.StatusCode switch
            {
                StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
                StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
                StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
                StatusCode.NotFound => StatusCodes.Status404NotFound,
                StatusCode.FailedPrecondition => StatusCodes.Status412PreconditionFailed,
                StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
                _ => StatusCodes.Status500InternalServerError,
            };
            http.Response.Headers[StatusHeader] = ((int)ex.StatusCode).ToString(CultureInfo.InvariantCulture);
            await http.Response.WriteAsync(ex.Status.Detail, CancellationToken.None);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            http.Response.Headers[StatusHeader] = ((int)StatusCode.InvalidArgument).ToString(CultureInfo.InvariantCulture);
            await http.Response.WriteAsync($"body: more bytes than the {SizeHeader} declared", CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && ct.IsCancellationRequested)
        {
            // The sender went away mid-body: what arrived is on disk for its resume.
        }
    }

    private static async Task Drain(PipeReader reader)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(CancellationToken.None);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // the sender went away, or the body was over its limit: nothing left to drain
        }
    }

    private static T Header<T>(HttpContext http, string name) where T : struct, IParsable<T>
    {
        var text = http.Request.Headers[name].ToString();
        return T.TryParse(text, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw CoordinatorService.Refuse(StatusCode.InvalidArgument, $"{name}: header must be a non-negative integer, got '{text}'");
    }

    /// <summary>
    /// The body as it arrives, gathered into chunks of up to 64 KiB: Kestrel hands it over in 4 KiB blocks, and a
    /// write and a hash call per block would cost more than the one copy that gathers them. (1 MiB chunks left a
    /// megabyte in the shared array pool for every upload that ran at once, kept for the process's life.)
    /// </summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Body(PipeReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var filled = 0;
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                var data = result.Buffer;
                while (!data.IsEmpty)
                {
                    var take = (int)Math.Min(data.Length, ChunkBytes - filled);
                    data.Slice(0, take).CopyTo(buffer.AsSpan(filled));
                    filled += take;
                    data = data.Slice(take);
                    if (filled == ChunkBytes)
                    {
                        yield return buffer.AsMemory(0, filled);
                        filled = 0;
                    }
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    if (filled > 0)
                    {
                        yield return buffer.AsMemory(0, filled);
                    }
                    yield break;
                }
                // Hand over what arrived once the sender pauses, rather than holding it for a full chunk.
                if (filled > 0)
                {
                    if (reader.TryRead(out var more))
                    {
                        reader.AdvanceTo(more.Buffer.Start);
                    }
                    else
                    {
                        yield return buffer.AsMemory(0, filled);
                        filled = 0;
                    }
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private const int ChunkBytes = 64 << 10;
}
