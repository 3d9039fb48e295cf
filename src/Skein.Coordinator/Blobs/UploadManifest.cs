using System.Text.Json.Serialization;

namespace Skein.Coordinator.Blobs;

/// <summary>What an upload declared when it began, kept beside its bytes as <c>uploads/&lt;id&gt;.json</c>.</summary>
/// <remarks>
/// An upload whose hash is declared at its end (so that the sender hashes while sending) has an empty
/// <see cref="Sha256"/> and a <see cref="Scope"/> instead (e.g. a task and round): what a resuming sender names to
/// find it again.
/// </remarks>
internal sealed record UploadManifest(string Sha256, long Size, string Owner, DateTimeOffset Created, string? Scope = null)
{
    /// <summary>The longest scope accepted.</summary>
    public const int MaxScopeLength = 200;

    public bool HashDeclared => Sha256.Length != 0;
}

/// <summary>Source-generated (reflection-free) JSON for upload manifests.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(UploadManifest))]
internal sealed partial class BlobJsonContext : JsonSerializerContext;
