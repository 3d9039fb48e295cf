using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Api;
using Skein.Market.Provider;

namespace Skein.Market.Deploy;

/// <summary>One provider's reason not to bid on a group: its kind, its words, and its price when that was the reason.</summary>
public sealed record ProviderVerdict(Address Provider, string HostUri, NoBidKind Kind, string Reason, UInt128? Price);

/// <summary>Why a group got no bid: a summary a tenant can act on, and every provider's own reason.</summary>
public sealed record NoBidReport(string Group, string Summary, IReadOnlyList<ProviderVerdict> Providers);

/// <summary>
/// Says why no bid came for a group, from what the market knows: the providers' attributes and audits on the
/// ledger, and each provider's own bid engine, asked for a quote. Akash users get no reason; this names, per
/// provider, the missing attribute or auditor, the GPU model it lacks, the resource it has too little of, or its
/// price when the tenant's ceiling is below it (and the lowest price on the market).
/// </summary>
public sealed class NoBidExplainer(IMarketLedger market, ProviderClient providers)
{
    public async Task<NoBidReport> ExplainAsync(GroupSpec spec, UInt128 ceiling, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rules = (await market.GetMarketStatusAsync(cancellationToken)).Params;
        var verdicts = new List<ProviderVerdict>();
        foreach (var p in await market.ListProvidersAsync(cancellationToken))
        {
            string? unmet;
            try
            {
                unmet = Placement.Unmet(spec.Requirements, p.Owner, p.Attributes, p.Audits);
            }
            catch (LedgerException ex)
            {
                unmet = ex.Message;
            }
            if (unmet is not null)
            {
                verdicts.Add(new ProviderVerdict(p.Owner, p.HostUri, NoBidKind.Requirements, unmet, null));
                continue;
            }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var quote = await providers.QuoteAsync(new Uri(p.HostUri), spec, MarketApiMapping.Coin(rules, ceiling), timeout.Token);
                var kind = Enum.TryParse<NoBidKind>(quote.Kind.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var k) ? k : NoBidKind.Pricing;
                var price = quote.Price is { } coin ? MarketApiMapping.Units(rules, coin, "price") : (UInt128?)null;
                verdicts.Add(quote.Bid
                    ? new ProviderVerdict(p.Owner, p.HostUri, NoBidKind.None,
                        $"would bid {quote.Price!.Amount} {rules.Denom}/block now, but no bid arrived in time (is it running, and does its balance cover the bid deposit of {MarketApiMapping.Coin(rules, rules.BidDeposit).Amount} {rules.Denom}?)", price)
                    : new ProviderVerdict(p.Owner, p.HostUri, kind, quote.Reason ?? kind.ToString(), price));
            }
            catch (Exception ex) when (ex is HttpRequestException or ProviderRefusedException or OperationCanceledException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
            {
                verdicts.Add(new ProviderVerdict(p.Owner, p.HostUri, NoBidKind.Unreachable, $"did not answer at {p.HostUri}: {ex.Message}", null));
            }
        }
        return new NoBidReport(spec.Name, Summarize(spec, ceiling, rules, verdicts), verdicts);
    }

    private static string Summarize(GroupSpec spec, UInt128 ceiling, MarketParams rules, List<ProviderVerdict> verdicts)
    {
        if (verdicts.Count == 0)
        {
            return "no provider is registered on this market";
        }
        var kinds = verdicts.Select(v => v.Kind).Distinct().ToArray();
        if (kinds.Length == 1)
        {
            switch (kinds[0])
            {
                case NoBidKind.Ceiling:
                    var lowest = verdicts.Where(v => v.Price is not null).MinBy(v => v.Price!.Value)!;
                    return string.Create(CultureInfo.InvariantCulture,
                        $"the ceiling of {rules.FromBaseUnits(ceiling)} {rules.Denom}/block is below every provider's price; the lowest is {rules.FromBaseUnits(lowest.Price!.Value)} {rules.Denom}/block from {lowest.Provider} (raise the SDL's pricing or --max-price)");
                case NoBidKind.GpuModel:
                    var wanted = string.Join("/", spec.Resources.SelectMany(r => r.Units.GpuModels).Select(m => m.Model).Distinct());
                    return $"no provider has the GPU model {wanted}: " + string.Join("; ", verdicts.Select(v => $"{v.Provider}: {v.Reason}"));
                case NoBidKind.Requirements:
                    return "no provider meets the placement's attributes and auditors: " + string.Join("; ", verdicts.Select(v => $"{v.Provider}: {v.Reason}"));
                case NoBidKind.Capacity:
                    return "no provider has enough free resources: " + string.Join("; ", verdicts.Select(v => $"{v.Provider}: {v.Reason}"));
                case NoBidKind.Unreachable:
                    return "no provider answered: " + string.Join("; ", verdicts.Select(v => v.Reason));
            }
        }
        return "no bid: " + string.Join("; ", verdicts.Select(v => $"{v.Provider}: {v.Reason}"));
    }
}
