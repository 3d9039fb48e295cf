using System.Text.RegularExpressions;
using Skein.Ledger.Market;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Sdl;

/// <summary>
/// Turns SDL text into an <see cref="SdlDocument"/> with Akash's rules: the structure of its input schema
/// (go/sdl/sdl-input.schema.yaml in akash-network/chain-sdk), the checks of its Go parser and TypeScript port, and
/// the limits its chain applies to deployment groups. Every error is collected; none stops the others.
/// </summary>
internal sealed partial class SdlParser
{
    private static readonly string[] TopLevelKeys = ["version", "services", "profiles", "deployment", "endpoints", "include", "reclamation"];

    private readonly YamlReader _r;
    private readonly SortedDictionary<string, SdlService> _services = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SdlComputeProfile> _compute = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SdlPlacement> _placements = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SdlEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly List<SdlDeployment> _deployments = [];

    // Names declared, even where their body has errors, so that a reference to them is not reported twice.
    private readonly HashSet<string> _serviceNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _computeNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _placementNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deployedServices = new(StringComparer.Ordinal);
    private bool _servicesComplete = true;
    private string _version = "";
    private string? _reclamation;

    private SdlParser(string file) => _r = new YamlReader(file);

    public static SdlParseResult Parse(string yaml, string file)
    {
        var parser = new SdlParser(file);
        if (parser.Load(yaml) is not { } root)
        {
            return new SdlParseResult(null, parser._r.Errors);
        }
        parser.ParseRoot(root);
        var errors = parser._r.Errors.Distinct().ToList();
        if (errors.Count > 0)
        {
            return new SdlParseResult(null, errors);
        }
        var document = new SdlDocument(file, parser._version, parser._services, parser._compute, parser._placements,
            [.. parser._deployments.OrderBy(d => d.Service, StringComparer.Ordinal).ThenBy(d => d.Placement, StringComparer.Ordinal)],
            parser._endpoints, parser._reclamation);
        return new SdlParseResult(document, []);
    }

    private YamlNode? Load(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            // MergingParser applies YAML merge keys (`<<: *anchor`), which Akash's Go decoder (yaml.v3) honours too. It reads
            // every event before it hands out the first, so the depth limit sits below it; YamlDotNet's own limit of
            // 100,000 events bounds what merges expand to.
            stream.Load(new MergingParser(new LimitedYamlParser(new Parser(new StringReader(yaml)))));
        }
        catch (YamlException ex)
        {
            // YamlDotNet prefixes its message with the span; the path already says where.
            var message = SpanPrefix().Replace(ex.Message, "");
            _r.Error($"line {ex.Start.Line}, column {ex.Start.Column}", $"malformed YAML: {message}");
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or KeyNotFoundException)
        {
            // MergingParser's ways of refusing a merge key (<<) whose value is not an alias of a mapping defined before it.
            _r.Error("(root)", "malformed YAML: a merge key (<<) must be an alias (*name) of a mapping defined earlier, or a list of such aliases");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way (without a position) when the text ends inside a flow collection.
            var lines = yaml.Split('\n').Length;
            _r.Error($"line {lines}, column 1", "malformed YAML: the file ends inside an unclosed [ ] or { }");
            return null;
        }
        if (stream.Documents.Count == 0 || YamlReader.IsNull(stream.Documents[0].RootNode))
        {
            _r.Error("(root)", "the file is empty; an SDL needs version, services, profiles and deployment");
            return null;
        }
        if (stream.Documents.Count > 1)
        {
            _r.Error("(root)", $"one YAML document expected, found {stream.Documents.Count} (separated by ---)");
            return null;
        }
        return stream.Documents[0].RootNode;
    }

    private void ParseRoot(YamlNode rootNode)
    {
        if (_r.Map(rootNode, "(root)", "a mapping with version, services, profiles and deployment") is not { } root)
        {
            return;
        }
        _r.OnlyKeys(root, "", TopLevelKeys);
        foreach (var key in (string[])["version", "services", "profiles", "deployment"])
        {
            if (!YamlReader.Has(root, key))
            {
                _r.Error("(root)", $"{key} is required");
            }
        }
        if (YamlReader.Get(root, "version") is { } version)
        {
            ParseVersion(version);
        }
        if (YamlReader.Get(root, "endpoints") is { } endpoints)
        {
            ParseEndpoints(endpoints);
        }
        if (YamlReader.Get(root, "services") is { } services)
        {
            ParseServices(services);
        }
        else
        {
            _servicesComplete = false;
        }
        if (YamlReader.Get(root, "profiles") is { } profiles)
        {
            ParseProfiles(profiles);
        }
        if (YamlReader.Get(root, "deployment") is { } deployment)
        {
            ParseDeployment(deployment);
        }
        if (YamlReader.Get(root, "include") is { } include)
        {
            // Akash's parsers read `include` and do nothing with it; so do we, after checking its shape.
            _r.StringList(include, "include", nullAllowed: false);
        }
        if (YamlReader.Get(root, "reclamation") is { } reclamation)
        {
            ParseReclamation(reclamation);
        }
        CheckReferences();
    }

    private void ParseVersion(YamlNode node)
    {
        if (_r.String(node, "version", "\"2.0\" or \"2.1\"") is not { } text)
        {
            return;
        }
        if (text is "2.0" or "2.1")
        {
            _version = text;
        }
        else
        {
            _r.Error("version", $"must be \"2.0\" or \"2.1\", got '{text}'");
        }
    }

    private void ParseEndpoints(YamlNode node)
    {
        if (_r.Map(node, "endpoints") is not { } map)
        {
            return;
        }
        foreach (var (name, value) in _r.Entries(map, "endpoints"))
        {
            var path = YamlReader.Join("endpoints", name);
            if (!EndpointName().IsMatch(name))
            {
                _r.Error(path, "endpoint names are lower-case letters followed by lower-case letters, digits, '-' or '_'");
            }
            if (_r.Map(value, path) is not { } body)
            {
                continue;
            }
            _r.OnlyKeys(body, path, "kind");
            if (_r.RequiredString(body, path, "kind") is not { } kind)
            {
                continue;
            }
            if (kind != "ip")
            {
                _r.Error(YamlReader.Join(path, "kind"), $"kind must be ip, got '{kind}'");
                continue;
            }
            _endpoints[name] = new SdlEndpoint(name, kind);
        }
    }

    private void ParseReclamation(YamlNode node)
    {
        if (_r.Map(node, "reclamation") is not { } map)
        {
            return;
        }
        _r.OnlyKeys(map, "reclamation", "min_window");
        if (_r.RequiredString(map, "reclamation", "min_window") is { } window)
        {
            if (MinWindow().IsMatch(window))
            {
                _reclamation = window;
            }
            else
            {
                _r.Error("reclamation.min_window", $"must be a whole number followed by s, m or h (e.g. 24h), got '{window}'");
            }
        }
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex SpanPrefix();

    [GeneratedRegex("^[a-z]+[-_0-9a-z]+$")]
    private static partial Regex EndpointName();

    [GeneratedRegex("^[1-9][0-9]*(s|m|h)$")]
    private static partial Regex MinWindow();
}
