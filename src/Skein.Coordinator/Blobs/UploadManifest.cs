using System.Text.Json.Serialization;

namespace Skein.Coordinator.Blobs;

/// <summary>What an upload declared when it began, kept beside its bytes as <c>uploads/&lt;id&gt;.json</c>.</summary>
internal sealed record UploadManifest(string Sha256, long Size, string Owner, DateTimeOffset Created);

/// <summary>Source-generated (reflection-free) JSON for upload manifests.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(UploadManifest))]
internal sealed partial class BlobJsonContext : JsonSerializerContext;
