using System.Text.Json.Serialization;
using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>
/// An order as a bid price script reads it on stdin, in the shape of Akash's provider (bidpricescript): the group's
/// resources (cpu in millis, memory and storage in bytes, gpu units and attributes), the tenant's ceiling and denom.
/// </summary>
public sealed record PriceScriptRequest(
    [property: JsonPropertyName("resources")] IReadOnlyList<PriceScriptResource> Resources,
    [property: JsonPropertyName("price")] PriceScriptCoin Price,
    [property: JsonPropertyName("price_precision")] int PricePrecision)
{
    public static PriceScriptRequest From(GroupSpec spec, string denom, string ceiling)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new PriceScriptRequest(
            spec.Resources.Select(r => new PriceScriptResource(
                r.Units.CpuMillis,
                r.Units.MemoryBytes,
                r.Units.Storage.Select(s => new PriceScriptStorage(s.Class, s.Bytes)).ToArray(),
                new PriceScriptGpu(r.Units.GpuUnits, r.Units.GpuModels.Select(m => new PriceScriptGpuModel(m.Vendor, m.Model, m.Ram, m.Interface)).ToArray()),
                r.Count,
                0,
                0)).ToArray(),
            new PriceScriptCoin(denom, ceiling),
            6);
    }
}

/// <summary>One resource line of a price script request.</summary>
public sealed record PriceScriptResource(
    [property: JsonPropertyName("cpu")] ulong Cpu,
    [property: JsonPropertyName("memory")] ulong Memory,
    [property: JsonPropertyName("storage")] IReadOnlyList<PriceScriptStorage> Storage,
    [property: JsonPropertyName("gpu")] PriceScriptGpu Gpu,
    [property: JsonPropertyName("count")] uint Count,
    [property: JsonPropertyName("endpoint_quantity")] uint EndpointQuantity,
    [property: JsonPropertyName("ip_lease_quantity")] uint IpLeaseQuantity);

/// <summary>A storage volume in a price script request.</summary>
public sealed record PriceScriptStorage([property: JsonPropertyName("class")] string Class, [property: JsonPropertyName("size")] ulong Size);

/// <summary>The GPUs of a price script request: units and the accepted models.</summary>
public sealed record PriceScriptGpu([property: JsonPropertyName("units")] uint Units, [property: JsonPropertyName("attributes")] IReadOnlyList<PriceScriptGpuModel> Attributes);

/// <summary>An accepted GPU model.</summary>
public sealed record PriceScriptGpuModel(
    [property: JsonPropertyName("vendor")] string Vendor,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("ram")] string? Ram,
    [property: JsonPropertyName("interface")] string? Interface);

/// <summary>The tenant's ceiling in a price script request.</summary>
public sealed record PriceScriptCoin([property: JsonPropertyName("denom")] string Denom, [property: JsonPropertyName("amount")] string Amount);
