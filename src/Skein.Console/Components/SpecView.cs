using System.Text.Json;
using Skein.Core;

namespace Skein.Console.Components;

/// <summary>Whether a task's spec hashes to what the ledger records, and the spec indented for reading.</summary>
public static class SpecView
{
    public static (bool? Matches, string? Pretty) Check(string? specJson, string ledgerHash)
    {
        if (specJson is null)
        {
            return (null, null);
        }
        try
        {
            var spec = TaskSpec.Parse(specJson, "spec");
            var hex = ledgerHash.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? ledgerHash[2..] : ledgerHash;
            using var doc = JsonDocument.Parse(specJson);
            return (string.Equals(spec.Sha256(), hex, StringComparison.OrdinalIgnoreCase), JsonSerializer.Serialize(doc.RootElement, Indented));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return (false, specJson);
        }
    }

    /// <summary>Whether a task fine-tunes a language model: its rounds' accuracy is then next-byte accuracy and its loss bits per byte.</summary>
    public static bool IsFineTuning(string? specJson)
    {
        if (specJson is null)
        {
            return false;
        }
        try
        {
            return TaskSpec.Parse(specJson, "spec").IsFineTuning;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
