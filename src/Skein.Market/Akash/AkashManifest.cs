using System.Text.Json;

namespace Skein.Market.Akash;

/// <summary>What the flow reads from the manifest Console returns: how many groups (one order each, gseq 1..n).</summary>
internal static class AkashManifest
{
    /// <summary>The manifest is chain-sdk's <c>manifestToSortedJSON(groups)</c>, a JSON array of groups; null if it is not.</summary>
    public static int? CountGroups(string manifest)
    {
        try
        {
            using var doc = JsonDocument.Parse(manifest);
            return doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0 ? doc.RootElement.GetArrayLength() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
