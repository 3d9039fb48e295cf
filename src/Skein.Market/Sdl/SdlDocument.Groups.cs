using Skein.Ledger.Market;

namespace Skein.Market.Sdl;

/// <summary>The deployment groups an SDL asks the ledger for.</summary>
public sealed partial class SdlDocument
{
    /// <summary>
    /// One group per placement that <c>deployment</c> uses, named by the placement and ordered ordinally as Akash
    /// orders them, with one resource line per service placed there (ordered by service), its instance count and
    /// its price per instance and block. Unlike Akash, services that share a compute profile keep a line each, so
    /// the ledger knows which service a line is for.
    /// </summary>
    public IReadOnlyList<GroupSpec> ToGroups() =>
    [
        .. GroupNames.Select(name =>
        {
            var placement = Placements[name];
            var attributes = new SortedDictionary<string, string>(placement.Attributes.ToDictionary(), StringComparer.Ordinal);
            if (Tee(name) is { } tee)
            {
                // As Akash does: a TEE service makes its group ask for providers that attest that TEE type.
                attributes["tee/type"] = tee;
            }
            var requirements = new PlacementRequirements(attributes, placement.SignedByAllOf, placement.SignedByAnyOf);
            var resources = Deployments.Where(d => d.Placement == name)
                .Select(d => new GroupResource(d.Service, Units(ComputeProfiles[d.Profile]), d.Count, placement.Pricing[d.Profile]))
                .ToList();
            return new GroupSpec(name, requirements, resources);
        }),
    ];

    internal string? Tee(string placement) =>
        Deployments.Where(d => d.Placement == placement).Select(d => Services[d.Service].Params?.Tee).FirstOrDefault(t => t is not null);

    internal static ResourceUnits Units(SdlComputeProfile profile) => new(
        profile.CpuMillis,
        profile.MemoryBytes,
        [.. profile.Storage.Select(v => new StorageUnits(v.Name, v.Bytes, v.MarketClass, v.Persistent))],
        profile.Gpu.Units,
        profile.Gpu.Models);
}
