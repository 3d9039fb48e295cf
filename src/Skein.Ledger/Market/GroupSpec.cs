using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skein.Ledger.Market;

/// <summary>A price per block as Akash writes it: a denomination (<c>uact</c>, <c>uakt</c>) and a positive decimal amount.</summary>
public sealed record DecCoin(string Denom, string Amount);

/// <summary>One storage volume of a compute profile: its size, class (<c>default</c>, <c>beta1..3</c>, <c>ram</c>) and whether it persists.</summary>
public sealed record StorageUnits(string Name, ulong Bytes, string Class, bool Persistent);

/// <summary>A GPU model a profile accepts: vendor (<c>nvidia</c>), model (<c>a100</c>; <c>*</c> for any), and optional memory and interface.</summary>
public sealed record GpuModel(string Vendor, string Model, string? Ram = null, string? Interface = null);

/// <summary>The resources of one instance of a service: CPU in thousandths of a core, memory and storage in bytes, GPUs.</summary>
public sealed record ResourceUnits(ulong CpuMillis, ulong MemoryBytes, IReadOnlyList<StorageUnits> Storage, uint GpuUnits, IReadOnlyList<GpuModel> GpuModels)
{
    public ulong StorageBytes => Storage.Aggregate(0UL, (sum, s) => checked(sum + s.Bytes));
}

/// <summary>One line of a group: a service's resources, how many instances, and the most the tenant pays per instance per block.</summary>
public sealed record GroupResource(string Service, ResourceUnits Units, uint Count, DecCoin Price);

/// <summary>
/// What a provider must offer to bid on a group: attributes it must hold (key and value), and auditors who must
/// have signed those attributes (all of <c>SignedByAllOf</c>, at least one of <c>SignedByAnyOf</c>).
/// </summary>
public sealed record PlacementRequirements(IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> SignedByAllOf, IReadOnlyList<string> SignedByAnyOf);

/// <summary>
/// One deployment group (an SDL placement with the services placed there): the unit a provider bids on and a
/// lease covers. The ledger opens one order per group.
/// </summary>
public sealed record GroupSpec(string Name, PlacementRequirements Requirements, IReadOnlyList<GroupResource> Resources)
{
    /// <summary>The canonical JSON of a deployment's groups, as it goes into a <c>create_deployment</c> transaction.</summary>
    public static string ToCanonicalJson(IReadOnlyList<GroupSpec> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var canonical = groups.Select(g => g with
        {
            Requirements = g.Requirements with
            {
                Attributes = new SortedDictionary<string, string>(g.Requirements.Attributes.ToDictionary(), StringComparer.Ordinal),
                SignedByAllOf = [.. g.Requirements.SignedByAllOf.Order(StringComparer.Ordinal)],
                SignedByAnyOf = [.. g.Requirements.SignedByAnyOf.Order(StringComparer.Ordinal)],
            },
        }).ToArray();
        return JsonSerializer.Serialize(canonical, JsonOptions);
    }

    /// <summary>Reads the groups of a transaction strictly; unknown fields are refused.</summary>
    public static IReadOnlyList<GroupSpec> FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<GroupSpec[]>(json, JsonOptions) ?? throw new LedgerException(LedgerError.InvalidParameter, "groups: empty");
        }
        catch (JsonException ex)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"groups: not valid deployment groups ({ex.Path}: {ex.Message})");
        }
    }

    internal static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
