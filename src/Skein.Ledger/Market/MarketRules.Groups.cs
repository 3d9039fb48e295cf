using Skein.Ledger.State;

namespace Skein.Ledger.Market;

/// <summary>The checks of a deployment's groups and of a provider against a group.</summary>
internal static partial class MarketRules
{
    /// <summary>Checks every group of a new deployment and returns each group's ceiling per block in base units.</summary>
    private static UInt128[] CheckGroups(IReadOnlyList<GroupSpec> groups, MarketParams rules)
    {
        if (groups.Count is 0 or > MaxGroups)
        {
            throw new LedgerException(LedgerError.InvalidParameter, $"groups: a deployment has 1 to {MaxGroups} groups, got {groups.Count}");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var ceilings = new UInt128[groups.Count];
        for (var i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            var at = $"groups[{i}]";
            if (string.IsNullOrWhiteSpace(g.Name) || !names.Add(g.Name))
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"{at}.name: must be non-empty and unique, got '{g.Name}'");
            }
            ParseAttributes(System.Text.Json.JsonSerializer.Serialize(g.Requirements.Attributes), $"{at}.requirements.attributes");
            foreach (var auditor in g.Requirements.SignedByAllOf.Concat(g.Requirements.SignedByAnyOf))
            {
                Placement.ParseAuditor(auditor);
            }
            if (g.Resources.Count is 0 or > MaxResourcesPerGroup)
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"{at}.resources: a group has 1 to {MaxResourcesPerGroup} resources, got {g.Resources.Count}");
            }
            UInt128 ceiling = 0;
            for (var j = 0; j < g.Resources.Count; j++)
            {
                var r = g.Resources[j];
                var rat = $"{at}.resources[{j}]";
                if (string.IsNullOrWhiteSpace(r.Service))
                {
                    throw new LedgerException(LedgerError.InvalidParameter, $"{rat}.service: must be named");
                }
                if (r.Count is 0 or > 1_000)
                {
                    throw new LedgerException(LedgerError.InvalidParameter, $"{rat}.count: must be in [1, 1000], got {r.Count}");
                }
                if (r.Units.CpuMillis == 0 || r.Units.MemoryBytes == 0)
                {
                    throw new LedgerException(LedgerError.InvalidParameter, $"{rat}.units: cpu and memory must be > 0");
                }
                if ((r.Units.GpuUnits > 0) != (r.Units.GpuModels.Count > 0))
                {
                    throw new LedgerException(LedgerError.InvalidParameter, $"{rat}.units.gpu: units > 0 needs models, and models need units > 0");
                }
                var price = rules.ToBaseUnits(r.Price, $"{rat}.price");
                if (price == 0)
                {
                    throw new LedgerException(LedgerError.InvalidAmount, $"{rat}.price.amount: must be > 0");
                }
                try
                {
                    ceiling = checked(ceiling + (price * r.Count));
                }
                catch (OverflowException)
                {
                    throw new LedgerException(LedgerError.InvalidAmount, $"{rat}.price.amount: the group's ceiling overflows");
                }
            }
            ceilings[i] = ceiling;
        }
        return ceilings;
    }

    private static string? Unmet(MarketState market, ProviderState provider, PlacementRequirements requirements) =>
        Placement.Unmet(requirements, provider.Owner, provider.Attributes, AuditsOf(market, provider.Owner));

    internal static IReadOnlyDictionary<Address, IReadOnlyDictionary<string, string>> AuditsOf(MarketState market, Address provider) =>
        market.Audits.Where(a => a.Key.Provider == provider).ToDictionary(a => a.Key.Auditor, a => (IReadOnlyDictionary<string, string>)a.Value);
}
