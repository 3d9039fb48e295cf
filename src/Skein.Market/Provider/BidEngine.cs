using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>What of a provider's declared capacity its leases and open bids hold.</summary>
public sealed record Inventory(ProviderCapacity Capacity, ulong CpuMillisUsed, ulong MemoryBytesUsed, ulong StorageBytesUsed, IReadOnlyDictionary<string, uint> GpusUsed)
{
    public ulong CpuMillisFree => Capacity.CpuMillis > CpuMillisUsed ? Capacity.CpuMillis - CpuMillisUsed : 0;

    public ulong MemoryBytesFree => Capacity.MemoryBytes > MemoryBytesUsed ? Capacity.MemoryBytes - MemoryBytesUsed : 0;

    public ulong StorageBytesFree => Capacity.StorageBytes > StorageBytesUsed ? Capacity.StorageBytes - StorageBytesUsed : 0;

    public uint GpusFree(string model) =>
        Capacity.Gpus.Where(g => string.Equals(g.Model, model, StringComparison.OrdinalIgnoreCase)).Aggregate(0u, (s, g) => s + g.Count) is var total && total > GpusUsed.GetValueOrDefault(model)
            ? total - GpusUsed.GetValueOrDefault(model)
            : 0;

    /// <summary>The capacity minus what <paramref name="held"/> groups take (their resources times counts; GPUs by the models assigned to them).</summary>
    public static Inventory Of(ProviderCapacity capacity, IEnumerable<(GroupSpec Spec, IReadOnlyList<string> GpuModels)> held)
    {
        ArgumentNullException.ThrowIfNull(capacity);
        ArgumentNullException.ThrowIfNull(held);
        ulong cpu = 0, memory = 0, storage = 0;
        var gpus = new Dictionary<string, uint>(StringComparer.OrdinalIgnoreCase);
        foreach (var (spec, models) in held)
        {
            foreach (var r in spec.Resources)
            {
                cpu += r.Units.CpuMillis * r.Count;
                memory += r.Units.MemoryBytes * r.Count;
                storage += r.Units.StorageBytes * r.Count;
            }
            foreach (var m in models)
            {
                gpus[m] = gpus.GetValueOrDefault(m) + 1;
            }
        }
        return new Inventory(capacity, cpu, memory, storage, gpus);
    }
}

/// <summary>Why a provider does not bid, in kinds `skein deploy` can summarise across providers.</summary>
public enum NoBidKind
{
    None,
    Requirements,
    GpuModel,
    Capacity,
    Pricing,
    Ceiling,
    Unreachable,
}

/// <summary>A bid engine's verdict on one group: a price, or the kind and words of the reason not to bid; the GPU models it would assign.</summary>
public sealed record BidDecision(UInt128? Price, NoBidKind Kind, string? Reason, IReadOnlyList<string> GpuModels)
{
    public bool Bid => Price is not null;
}

/// <summary>
/// Whether and at what price a provider bids on a group: the placement's attributes and auditors, the GPU models,
/// the free capacity, the pricing strategy, and the tenant's ceiling, in that order, each with a reason the tenant
/// can act on. The provider runs it on every open order; `skein deploy` asks providers for it when no bid comes.
/// </summary>
public static class BidEngine
{
    public static async Task<BidDecision> DecideAsync(GroupSpec spec, UInt128 ceiling, ProviderInfo provider, Inventory inventory, IBidPricing pricing, MarketParams rules,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(pricing);
        ArgumentNullException.ThrowIfNull(rules);
        string? unmet;
        try
        {
            unmet = Placement.Unmet(spec.Requirements, provider.Owner, provider.Attributes, provider.Audits);
        }
        catch (LedgerException ex)
        {
            unmet = ex.Message;
        }
        if (unmet is not null)
        {
            return new BidDecision(null, NoBidKind.Requirements, unmet, []);
        }
        var (assigned, gpuProblem) = AssignGpus(spec, inventory, pricing);
        if (gpuProblem is { } problem)
        {
            return new BidDecision(null, problem.Kind, problem.Reason, []);
        }
        var gpuModels = assigned!;
        var need = Inventory.Of(inventory.Capacity, [(spec, gpuModels)]);
        if (need.CpuMillisUsed > inventory.CpuMillisFree)
        {
            return Short("CPU", Cores(need.CpuMillisUsed), Cores(inventory.CpuMillisFree), Cores(inventory.Capacity.CpuMillis), gpuModels);
        }
        if (need.MemoryBytesUsed > inventory.MemoryBytesFree)
        {
            return Short("memory", GiB(need.MemoryBytesUsed), GiB(inventory.MemoryBytesFree), GiB(inventory.Capacity.MemoryBytes), gpuModels);
        }
        if (need.StorageBytesUsed > inventory.StorageBytesFree)
        {
            return Short("storage", GiB(need.StorageBytesUsed), GiB(inventory.StorageBytesFree), GiB(inventory.Capacity.StorageBytes), gpuModels);
        }
        var quote = await pricing.QuoteAsync(spec, ceiling, gpuModels, rules, cancellationToken);
        if (quote.PricePerBlock is not { } price)
        {
            return new BidDecision(null, NoBidKind.Pricing, quote.Reason, gpuModels);
        }
        if (price > ceiling)
        {
            return new BidDecision(price, NoBidKind.Ceiling,
                $"its price {rules.FromBaseUnits(price)} {rules.Denom}/block is above the ceiling of {rules.FromBaseUnits(ceiling)} {rules.Denom}/block", gpuModels);
        }
        return new BidDecision(price, NoBidKind.None, null, gpuModels);
    }

    /// <summary>The GPU models this provider would give the group (cheapest accepted model first), or why it cannot.</summary>
    public static (IReadOnlyList<string>? Models, (NoBidKind Kind, string Reason)? Problem) AssignGpus(GroupSpec spec, Inventory inventory, IBidPricing pricing)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inventory);
        var assigned = new List<string>();
        var used = new Dictionary<string, uint>(StringComparer.OrdinalIgnoreCase);
        var held = inventory.Capacity.Gpus.Select(g => g.Model).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        foreach (var r in spec.Resources.Where(r => r.Units.GpuUnits > 0))
        {
            var accepted = held.Where(m => r.Units.GpuModels.Any(a => a.Model == "*" || string.Equals(a.Model, m, StringComparison.OrdinalIgnoreCase)))
                .Where(m => r.Units.GpuModels.Any(a => string.Equals(a.Vendor, VendorOf(inventory, m), StringComparison.OrdinalIgnoreCase)))
                .OrderBy(m => pricing is ScalePricing s ? s.GpuPerUnit.GetValueOrDefault(m, s.DefaultGpuPerUnit) : 0m)
                .ThenBy(m => m, StringComparer.Ordinal)
                .ToArray();
            var wanted = string.Join("/", r.Units.GpuModels.Select(a => a.Model));
            if (accepted.Length == 0)
            {
                var has = held.Length == 0 ? "no GPUs" : string.Join(", ", held);
                return (null, (NoBidKind.GpuModel, $"no GPU model it holds is accepted: the group wants {wanted}, it has {has}"));
            }
            for (var i = 0; i < r.Units.GpuUnits * r.Count; i++)
            {
                var model = accepted.FirstOrDefault(m => inventory.GpusFree(m) > used.GetValueOrDefault(m));
                if (model is null)
                {
                    return (null, (NoBidKind.Capacity, $"not enough free GPUs: the group wants {r.Units.GpuUnits * r.Count} x {wanted}, {accepted.Sum(m => (long)inventory.GpusFree(m))} free"));
                }
                used[model] = used.GetValueOrDefault(model) + 1;
                assigned.Add(model);
            }
        }
        return (assigned, null);
    }

    private static string VendorOf(Inventory inventory, string model) =>
        inventory.Capacity.Gpus.First(g => string.Equals(g.Model, model, StringComparison.OrdinalIgnoreCase)).Vendor;

    private static BidDecision Short(string what, string need, string free, string total, IReadOnlyList<string> models) =>
        new(null, NoBidKind.Capacity, $"not enough free {what}: the group needs {need}, {free} free of {total}", models);

    private static string Cores(ulong millis) => (millis / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " CPU";

    private static string GiB(ulong bytes) => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB";
}
