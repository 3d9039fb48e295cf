namespace Skein.Ledger.Market;

/// <summary>
/// Whether a provider meets a group's placement requirements: every required attribute with the same value, and the
/// auditors of <c>signedBy</c> having signed those attributes for it (all of <c>allOf</c>, one of <c>anyOf</c>).
/// The ledger refuses bids that fail it; `skein deploy` quotes its reason when no bid comes.
/// </summary>
public static class Placement
{
    /// <summary>Null when the provider qualifies, else the first reason it does not.</summary>
    /// <param name="requirements">The group's requirements.</param>
    /// <param name="provider">The provider's address.</param>
    /// <param name="attributes">The provider's attributes.</param>
    /// <param name="audits">Attributes each auditor signed for this provider.</param>
    public static string? Unmet(PlacementRequirements requirements, Address provider, IReadOnlyDictionary<string, string> attributes,
        IReadOnlyDictionary<Address, IReadOnlyDictionary<string, string>> audits)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(audits);
        foreach (var (key, value) in requirements.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (!attributes.TryGetValue(key, out var has))
            {
                return $"attribute {key}={value} is required and the provider has no '{key}'";
            }
            if (!string.Equals(has, value, StringComparison.Ordinal))
            {
                return $"attribute {key}={value} is required and the provider has {key}={has}";
            }
        }
        foreach (var auditor in requirements.SignedByAllOf)
        {
            if (!Signed(requirements, ParseAuditor(auditor), audits))
            {
                return $"signedBy.allOf: auditor {auditor} has not signed {Describe(requirements)} for provider {provider}";
            }
        }
        if (requirements.SignedByAnyOf.Count > 0 && !requirements.SignedByAnyOf.Any(a => Signed(requirements, ParseAuditor(a), audits)))
        {
            return $"signedBy.anyOf: none of the auditors {string.Join(", ", requirements.SignedByAnyOf)} has signed {Describe(requirements)} for provider {provider}";
        }
        return null;
    }

    /// <summary>An auditor named in <c>signedBy</c> as a ledger address; anything else (an Akash bech32 address) is refused.</summary>
    public static Address ParseAuditor(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            return Address.Parse(text, "signed_by");
        }
        catch (FormatException)
        {
            throw new LedgerException(LedgerError.InvalidParameter,
                $"signed_by: '{text}' is not an address of this ledger (0x and 40 hex digits){(text.StartsWith("akash1", StringComparison.Ordinal) ? "; akash1 addresses are for Akash Network" : "")}");
        }
    }

    private static bool Signed(PlacementRequirements requirements, Address auditor, IReadOnlyDictionary<Address, IReadOnlyDictionary<string, string>> audits)
    {
        if (!audits.TryGetValue(auditor, out var signedAttributes) || signedAttributes.Count == 0)
        {
            return false;
        }
        return requirements.Attributes.All(a => signedAttributes.TryGetValue(a.Key, out var v) && string.Equals(v, a.Value, StringComparison.Ordinal));
    }

    private static string Describe(PlacementRequirements requirements) =>
        requirements.Attributes.Count == 0 ? "any attributes" : string.Join(", ", requirements.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"));
}
