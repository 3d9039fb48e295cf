using Skein.Ledger.Market;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Sdl;

/// <summary><c>profiles.placement</c> and <c>deployment</c>.</summary>
internal sealed partial class SdlParser
{
    // Akash's chain refuses a price above 10,000,000 per instance and block (validation_config.go, maxUnitPrice).
    private const decimal MaxUnitPrice = 10_000_000m;
    private const uint MaxCount = 50;

    private void ParsePlacements(YamlNode node)
    {
        if (_r.Map(node, "profiles.placement") is not { } map)
        {
            return;
        }
        foreach (var (name, value) in _r.Entries(map, "profiles.placement"))
        {
            var path = YamlReader.Join("profiles.placement", name);
            _placementNames.Add(name);
            var before = _r.Errors.Count;
            if (ParsePlacement(name, value, path) is { } placement && _r.Errors.Count == before)
            {
                _placements[name] = placement;
            }
        }
    }

    private SdlPlacement? ParsePlacement(string name, YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "attributes", "signedBy", "pricing");
        var attributes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (YamlReader.Get(map, "attributes") is { } attrNode && _r.Map(attrNode, YamlReader.Join(path, "attributes")) is { } attrs)
        {
            foreach (var (key, value) in _r.Entries(attrs, YamlReader.Join(path, "attributes")))
            {
                // Akash decodes attribute values into strings: `tier: 1` and `gpu: true` are the text "1" and "true".
                if (_r.String(value, YamlReader.Join(YamlReader.Join(path, "attributes"), key)) is { } text)
                {
                    attributes[key] = text;
                }
            }
        }
        List<string> allOf = [], anyOf = [];
        if (YamlReader.Get(map, "signedBy") is { } signedNode && _r.Map(signedNode, YamlReader.Join(path, "signedBy")) is { } signed)
        {
            var signedPath = YamlReader.Join(path, "signedBy");
            _r.OnlyKeys(signed, signedPath, "allOf", "anyOf");
            allOf = YamlReader.Get(signed, "allOf") is { } all ? Auditors(all, YamlReader.Join(signedPath, "allOf")) : [];
            anyOf = YamlReader.Get(signed, "anyOf") is { } any ? Auditors(any, YamlReader.Join(signedPath, "anyOf")) : [];
        }
        var pricing = new SortedDictionary<string, DecCoin>(StringComparer.Ordinal);
        if (YamlReader.Get(map, "pricing") is not { } pricingNode)
        {
            _r.Error(path, "pricing is required");
        }
        else if (_r.Map(pricingNode, YamlReader.Join(path, "pricing")) is { } prices)
        {
            foreach (var (profile, value) in _r.Entries(prices, YamlReader.Join(path, "pricing")))
            {
                if (ParsePrice(value, YamlReader.Join(YamlReader.Join(path, "pricing"), profile)) is { } coin)
                {
                    pricing[profile] = coin;
                }
            }
        }
        return new SdlPlacement(name, attributes, allOf, anyOf, pricing);
    }

    private List<string> Auditors(YamlNode node, string path)
    {
        var result = new List<string>();
        if (_r.Seq(node, path, "a list of auditor addresses") is not { } seq)
        {
            return result;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (_r.String(seq.Children[i], YamlReader.Index(path, i), "an address") is not { } address)
            {
                continue;
            }
            if (AuditorAddress.IsValid(address))
            {
                result.Add(address);
            }
            else
            {
                _r.Error(YamlReader.Index(path, i), $"'{address}' is not an auditor address (an Akash bech32 address akash1..., or 0x and 40 hex digits)");
            }
        }
        return result;
    }

    private DecCoin? ParsePrice(YamlNode node, string path)
    {
        if (_r.Map(node, path) is not { } map)
        {
            return null;
        }
        _r.OnlyKeys(map, path, "denom", "amount");
        var denom = _r.RequiredString(map, path, "denom");
        if (denom is not null and not ("uact" or "uakt"))
        {
            _r.Error(YamlReader.Join(path, "denom"), $"denom must be uact or uakt, got '{denom}'");
            denom = null;
        }
        if (_r.RequiredString(map, path, "amount", "a decimal number") is not { } text)
        {
            return null;
        }
        var amountPath = YamlReader.Join(path, "amount");
        if (text.StartsWith('-'))
        {
            _r.Error(amountPath, $"amount must be > 0, got {text}");
            return null;
        }
        if (!SdlUnits.TryParseAmount(text, out var amount))
        {
            _r.Error(amountPath, $"amount must be a decimal number such as 1000 or 0.5 (at most 18 decimals), got '{text}'");
            return null;
        }
        if (amount == 0)
        {
            _r.Error(amountPath, $"amount must be > 0, got {text}");
            return null;
        }
        if (amount > MaxUnitPrice)
        {
            _r.Error(amountPath, $"amount must be at most 10000000 per instance and block (Akash's limit), got {text}");
            return null;
        }
        return denom is null ? null : new DecCoin(denom, SdlUnits.Normalize(amount));
    }

    private void ParseDeployment(YamlNode node)
    {
        if (_r.Map(node, "deployment") is not { } map)
        {
            return;
        }
        foreach (var (service, value) in _r.Entries(map, "deployment"))
        {
            var servicePath = YamlReader.Join("deployment", service);
            _deployedServices.Add(service);
            if (_r.Map(value, servicePath, "a mapping of placement names to {profile, count}") is not { } placements)
            {
                continue;
            }
            if (placements.Children.Count == 0)
            {
                _r.Error(servicePath, "must place the service in at least one placement");
            }
            foreach (var (placement, entry) in _r.Entries(placements, servicePath))
            {
                var path = YamlReader.Join(servicePath, placement);
                if (_r.Map(entry, path, "a mapping with profile and count") is not { } body)
                {
                    continue;
                }
                _r.OnlyKeys(body, path, "profile", "count");
                var profile = _r.RequiredString(body, path, "profile");
                long? count = null;
                if (YamlReader.Get(body, "count") is not { } countNode)
                {
                    _r.Error(path, "count is required");
                }
                else if ((count = _r.Integer(countNode, YamlReader.Join(path, "count"))) is < 1)
                {
                    _r.Error(YamlReader.Join(path, "count"), $"count must be at least 1, got {count}");
                    count = null;
                }
                else if (count > MaxCount)
                {
                    _r.Error(YamlReader.Join(path, "count"), $"count must be at most {MaxCount} instances (Akash's limit), got {count}");
                    count = null;
                }
                if (profile is not null && count is { } c)
                {
                    _deployments.Add(new SdlDeployment(service, placement, profile, (uint)c));
                }
            }
        }
    }
}
