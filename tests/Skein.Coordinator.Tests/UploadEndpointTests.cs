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

/// <summary>The update upload over plain HTTP/2 (<c>PUT /skein.v1/uploads</c>) and the hash declared at the end over gRPC: resumes, refusals mid-body, header checks.</summary>
public sealed class UploadEndpointTests() : OpenRoundFixture("upload-", ModelKind.Cnn, 16 << 20)
{
    private HttpClient Http() => new() { BaseAddress = Host.Uri, DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    private static HttpRequestMessage Put(CoordinatorConnection node, long size, long offset, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/skein.v1/uploads")
        {
            Content = new ByteArrayContent(body),
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.ExpectContinue = true;
        request.Headers.TryAddWithoutValidation("authorization", node.Auth.GetValue("authorization"));
        request.Headers.Add("skein-task", "1");
        request.Headers.Add("skein-round", "1");
        request.Headers.Add("skein-size", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("skein-offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    private string[] UploadFiles() => Directory.GetFiles(Path.Combine(Dir, "blobs", "uploads"));

    [Fact]
    public async Task An_interrupted_upload_keeps_its_bytes_is_told_its_offset_and_completes_under_the_hash_of_what_arrived()
    {
        var (picked, _) = await Trainers();
        var node = Nodes[picked];
        var bytes = Update(0.02f);
        var half = bytes.Length / 2;
        using var http = Http();

        // The body ends early: refused as truncated, and what arrived stays for the resume.
        using (var response = await http.SendAsync(Put(node, bytes.Length, 0, bytes[..half]), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.PreconditionFailed, response.StatusCode);
            Assert.Contains($"received {half} of {bytes.Length}", await response.Content.ReadAsStringAsync(Ct));
        }
        // Starting again from 0 is answered with where to go on, before any byte is read.
        using (var response = await http.SendAsync(Put(node, bytes.Length, 0, bytes), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal(half.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("skein-offset").Single());
        }
        using (var response = await http.SendAsync(Put(node, bytes.Length, half, bytes[half..]), Ct))
        {
            response.EnsureSuccessStatusCode();
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            Assert.Equal(Hashing.Sha256Hex(bytes), json.RootElement.GetProperty("sha256").GetString());
        }
        Assert.Empty(UploadFiles());
        // The client does the same by itself, and its hash agrees with the coordinator's.
        var stored = await node.UploadAsync(1, 1, Update(0.03f), Ct);
        Assert.Equal(Hashing.Sha256Hex(Update(0.03f)), stored);
        // And comes back whole: a CNN update is some two hundred download chunks, gathered into the announced size.
        Assert.Equal(Update(0.03f), await node.DownloadAsync(stored, Ct));
        // Or into a file, a chunk at a time, as a validator keeps a round's updates.
        var file = Path.Combine(Dir, "downloaded.safetensors");
        await node.DownloadToFileAsync(stored, file, Ct);
        Assert.Equal(Update(0.03f), await File.ReadAllBytesAsync(file, Ct));
        // A blob the coordinator does not have is refused, and leaves nothing half-written behind.
        var missing = Path.Combine(Dir, "missing.safetensors");
        await Assert.ThrowsAsync<RpcException>(() => node.DownloadToFileAsync(new string('0', 64), missing, Ct));
        Assert.False(File.Exists(missing));
        Assert.False(File.Exists(missing + ".partial"));
    }

    [Fact]
    public async Task A_non_finite_value_is_refused_mid_body_and_nothing_is_kept()
    {
        var (picked, _) = await Trainers();
        var node = Nodes[picked];
        var flat = Enumerable.Repeat(0.01f, Layout.TotalCount).ToArray();
        flat[1000] = float.NaN;
        var bytes = Layout.ToSafeTensors(flat);
        using var http = Http();
        using var response = await http.SendAsync(Put(node, bytes.Length, 0, bytes), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("skein-status").Single());
        Assert.Contains("tensor 'conv2.weight': non-finite value NaN at element 168 ", await response.Content.ReadAsStringAsync(Ct));
        Assert.Empty(UploadFiles());
        // Through the client, the same refusal arrives as the gRPC calls give it.
        await Refused(() => node.UploadAsync(1, 1, bytes, Ct), StatusCode.InvalidArgument, "non-finite");
    }

    [Fact]
    public async Task Headers_are_checked_and_a_body_longer_than_declared_is_refused()
    {
        var (picked, notPicked) = await Trainers();
        using var http = Http();
        using (var request = Put(Nodes[picked], 10, 0, new byte[10]))
        {
            request.Headers.Remove("skein-round");
            request.Headers.Add("skein-round", "one");
            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("skein-round: header must be a non-negative integer, got 'one'", await response.Content.ReadAsStringAsync(Ct));
        }
        using (var response = await http.SendAsync(Put(Nodes[notPicked], 10, 0, new byte[10]), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("was not picked", await response.Content.ReadAsStringAsync(Ct));
        }
        using (var request = Put(Nodes[picked], 10, 0, new byte[10]))
        {
            request.Headers.Remove("authorization");
            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var bytes = Update(0.04f);
        using (var response = await http.SendAsync(Put(Nodes[picked], bytes.Length - 100, 0, bytes), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task Over_grpc_a_hash_declared_on_the_last_chunk_completes_the_upload_and_a_wrong_one_discards_it()
    {
        var (picked, _) = await Trainers();
        var node = Nodes[picked];
        foreach (var (bytes, declared, ok) in new[] { (Update(0.05f), "", false), (Update(0.06f), "", true) })
        {
            var sha = ok ? Hashing.Sha256Hex(bytes) : Hashing.Sha256Hex(Update(0.07f));
            var begin = await node.Client.BeginUploadAsync(new BeginUploadRequest { TaskId = 1, Round = 1, Sha256 = declared, Size = bytes.Length }, node.Auth, cancellationToken: Ct);
            Assert.Equal(0, begin.Offset);
            using var call = node.Client.UploadChunks(node.Auth, cancellationToken: Ct);
            for (var offset = 0; offset < bytes.Length; offset += 1 << 20)
            {
                var length = Math.Min(1 << 20, bytes.Length - offset);
                await call.RequestStream.WriteAsync(new UploadChunk
                {
                    UploadId = begin.UploadId,
                    Offset = offset,
                    Data = ByteString.CopyFrom(bytes, offset, length),
                    Sha256 = offset + length == bytes.Length ? sha : "",
                }, Ct);
            }
            await call.RequestStream.CompleteAsync();
            if (ok)
            {
                Assert.Equal(sha, (await call.ResponseAsync).Sha256);
            }
            else
            {
                var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
                Assert.Contains("hash to", ex.Status.Detail, StringComparison.Ordinal);
            }
        }
        Assert.Empty(UploadFiles());
    }
}
