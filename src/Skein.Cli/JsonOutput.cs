using System.Text.Json;
using System.Text.Json.Serialization;
using Skein.Core.Json;

namespace Skein.Cli;

/// <summary>
/// The one writer behind every --json and --summary of the CLI: snake_case, indented, and NaN or an infinity
/// written as <c>null</c> (never thrown on), as docs/json.md describes.
/// </summary>
public static class JsonOutput
{
    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    }.WithNonFiniteAsNull();

    public static string Serialize(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return JsonSerializer.Serialize(value, value.GetType(), Options);
    }
}
