namespace Skein.Market.Sdl;

/// <summary>
/// A valid Akash SDL (2.0 or 2.1): services, compute and placement profiles, and where each service runs. Only
/// <see cref="Parse"/> and <see cref="Load"/> make one, so every document has passed every rule.
/// </summary>
public sealed partial class SdlDocument
{
    public const string DefaultFileName = "deploy.yaml";

    internal SdlDocument(string fileName, string version, IReadOnlyDictionary<string, SdlService> services,
        IReadOnlyDictionary<string, SdlComputeProfile> compute, IReadOnlyDictionary<string, SdlPlacement> placements,
        IReadOnlyList<SdlDeployment> deployments, IReadOnlyDictionary<string, SdlEndpoint> endpoints, string? reclamationMinWindow)
    {
        FileName = fileName;
        Version = version;
        Services = services;
        ComputeProfiles = compute;
        Placements = placements;
        Deployments = deployments;
        Endpoints = endpoints;
        ReclamationMinWindow = reclamationMinWindow;
    }

    /// <summary>The file name errors and reports name.</summary>
    public string FileName { get; }

    /// <summary><c>2.0</c> or <c>2.1</c>.</summary>
    public string Version { get; }

    /// <summary>Services by name, in ordinal order.</summary>
    public IReadOnlyDictionary<string, SdlService> Services { get; }

    public IReadOnlyDictionary<string, SdlComputeProfile> ComputeProfiles { get; }

    public IReadOnlyDictionary<string, SdlPlacement> Placements { get; }

    /// <summary>Every (service, placement) line of <c>deployment</c>, ordered by service then placement.</summary>
    public IReadOnlyList<SdlDeployment> Deployments { get; }

    public IReadOnlyDictionary<string, SdlEndpoint> Endpoints { get; }

    /// <summary><c>reclamation.min_window</c> (such as <c>24h</c>) when the SDL asks for one.</summary>
    public string? ReclamationMinWindow { get; }

    /// <summary>The placements <c>deployment</c> uses, in ordinal order: one deployment group (and one order) each.</summary>
    public IReadOnlyList<string> GroupNames => [.. Deployments.Select(d => d.Placement).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Parses and validates SDL text; every broken rule is in the result's errors, each naming its path.</summary>
    public static SdlParseResult Parse(string yaml, string fileName = DefaultFileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        return SdlParser.Parse(yaml, fileName);
    }

    /// <summary>Reads and validates an SDL file; errors name the file as <paramref name="path"/> is written.</summary>
    public static SdlParseResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new SdlParseResult(null, [new SdlError("(file)", $"cannot be read: {ex.Message}") { File = path }]);
        }
        return Parse(text, path);
    }
}
