using System.Text.Json.Serialization;

namespace Skein.Market.Akash;

/// <summary>A group of identical resources offered <c>count</c> times (shape: <c>resources_offer</c> in apps/api/src/bid/http-schemas/bid.schema.ts).</summary>
public sealed record AkashResourceOffer
{
    public required AkashResources Resources { get; init; }

    public int Count { get; init; }
}

/// <summary>The resources of one unit (<c>DeploymentResource_V3</c> in bid.schema.ts); quantities are decimal strings: millicpu, bytes, GPU units.</summary>
/// <remarks>The chain's resource <c>id</c> is not in the API's zod schema, and zod strips unknown keys, so it never arrives.</remarks>
public sealed record AkashResources
{
    public AkashUnitsResource? Cpu { get; init; }

    public AkashUnitsResource? Gpu { get; init; }

    public AkashQuantityResource? Memory { get; init; }

    public IReadOnlyList<AkashStorageResource> Storage { get; init; } = [];

    public IReadOnlyList<AkashEndpoint> Endpoints { get; init; } = [];

    /// <summary>The GPU models a bid offers, from attribute keys such as <c>vendor/nvidia/model/h100</c>: what Console users ask to see.</summary>
    public IReadOnlyList<string> GpuModels() =>
        Gpu?.Attributes.Select(a => a.Key.Split('/')).Where(p => p.Length >= 4 && p[2] == "model").Select(p => $"{p[1]}/{p[3]}").Distinct().ToList() ?? [];
}

/// <summary>CPU or GPU: <c>units.val</c> (millicpu for CPU, whole units for GPU) and attributes.</summary>
public sealed record AkashUnitsResource
{
    public AkashResourceValue? Units { get; init; }

    public IReadOnlyList<AkashAttributePair> Attributes { get; init; } = [];
}

/// <summary>Memory: <c>quantity.val</c> in bytes and attributes.</summary>
public sealed record AkashQuantityResource
{
    public AkashResourceValue? Quantity { get; init; }

    public IReadOnlyList<AkashAttributePair> Attributes { get; init; } = [];
}

/// <summary>One storage volume: <c>name</c>, <c>quantity.val</c> in bytes and attributes (class, persistent).</summary>
public sealed record AkashStorageResource
{
    public string Name { get; init; } = "";

    public AkashResourceValue? Quantity { get; init; }

    public IReadOnlyList<AkashAttributePair> Attributes { get; init; } = [];
}

/// <summary>A resource quantity, <c>{val}</c>, a decimal string.</summary>
public sealed record AkashResourceValue
{
    public string Val { get; init; } = "";
}

/// <summary>A key/value attribute (<c>{key, value}</c>).</summary>
public sealed record AkashAttributePair
{
    public string Key { get; init; } = "";

    public string Value { get; init; } = "";
}

/// <summary>An endpoint the unit needs: <c>kind</c> ("SHARED_HTTP", "RANDOM_PORT", "LEASED_IP") and <c>sequence_number</c>.</summary>
public sealed record AkashEndpoint
{
    public string Kind { get; init; } = "";

    [JsonPropertyName("sequence_number")]
    public int SequenceNumber { get; init; }
}
