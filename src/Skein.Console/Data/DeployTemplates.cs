using System.Globalization;
using System.Text.RegularExpressions;
using Skein.Market.Runtime;
using Skein.Market.Sdl;
using Skein.Market.Templates;

namespace Skein.Console.Data;

/// <summary>A setting of a template the deploy form asks for: its key (an env variable of the template), the template's value, a label and a hint.</summary>
public sealed record TemplateSetting(string Key, string Default, string Label, string Hint, bool Multiline, bool Secret);

/// <summary>
/// A template of the gallery as the console offers it: its README's title and first paragraph, the role it runs,
/// the settings a person fills in, and its compute profile and price ceiling (which the form may change).
/// </summary>
public sealed record DeployTemplate(string Name, string Title, string Summary, string? Role, IReadOnlyList<TemplateSetting> Settings, string Cpu, string Memory, string Price,
    string Denom)
{
    /// <summary>A trainer or validator joins a task and stakes; the console funds its stake.</summary>
    public bool JoinsTask => Role is "trainer" or "validator";

    public bool HasSetting(string key) => Settings.Any(s => s.Key == key);
}

/// <summary>The templates under the console's templates folder (templates/ of the repository, in Akash's gallery layout), read from disk on each call.</summary>
public static partial class DeployTemplates
{
    /// <summary>What the console sets itself: the role is the template's, and the node's key and password are made for each deployment.</summary>
    public static readonly IReadOnlySet<string> Managed = new HashSet<string>(StringComparer.Ordinal) { "SKEIN_ROLE", "SKEIN_KEY_JSON", "SKEIN_KEY_PASSWORD" };

    private static readonly Dictionary<string, (string Label, string Hint)> Known = new(StringComparer.Ordinal)
    {
        ["SKEIN_COORDINATOR"] = ("Coordinator", "the coordinator's gRPC URL the node connects to, such as http://coordinator.example.org:7400/ (the `grpc` URL it prints, not its API)"),
        ["SKEIN_TASK"] = ("Task", "the id of the task to join; several ids separated by commas"),
        ["SKEIN_STAKE"] = ("Stake", "SKN the node stakes in the task; the console sends them from its own key to the node's new key"),
        ["SKEIN_DATA"] = ("Data folder", "where the node keeps its data on the provider: /data is a container's persistent volume; a provider that runs nodes as processes starts each in a folder of its own, where a relative path such as data stays"),
        ["SKEIN_STATUS_PORT"] = ("Status page port", "the port of the node's status page; 0 turns it off"),
        ["SKEIN_BEHAVIOUR"] = ("Behaviour", "honest; sign-flip and the other cheats exist for demos and fault drills only (the network slashes them)"),
        ["SKEIN_GENESIS_JSON"] = ("Genesis (JSON)", "the chain's genesis document, for a coordinator that starts a new ledger"),
        ["SKEIN_TASK_JSON"] = ("Task spec (JSON)", "the task the coordinator hosts"),
        ["SKEIN_PORT"] = ("gRPC port", "the port nodes connect to"),
        ["SKEIN_API_PORT"] = ("API port", "the port of the JSON API and the market"),
    };

    /// <summary>Every template under <paramref name="root"/> that loads, by name.</summary>
    public static IReadOnlyList<DeployTemplate> List(string? root) =>
        root is null ? [] : new TemplateRenderer(root).TemplateNames().Select(n => Find(root, n)).OfType<DeployTemplate>().ToArray();

    /// <summary>The template named <paramref name="name"/> (a folder name, never a path); null when there is none or it is not a valid SDL.</summary>
    public static DeployTemplate? Find(string? root, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (root is null || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.StartsWith('.'))
        {
            return null;
        }
        var renderer = new TemplateRenderer(root);
        if (!renderer.TemplateNames().Contains(name, StringComparer.Ordinal) || renderer.Resolve(name) is not { } file)
        {
            return null;
        }
        var parsed = SdlDocument.Load(file);
        if (!parsed.Ok)
        {
            return null;
        }
        var document = parsed.Document!;
        var env = document.Services.Values.SelectMany(s => s.Env ?? [])
            .Select(e => e.Split('=', 2)).Where(p => p.Length == 2)
            .DistinctBy(p => p[0], StringComparer.Ordinal).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var settings = env.Where(e => !Managed.Contains(e.Key)).Select(e =>
        {
            var (label, hint) = Known.TryGetValue(e.Key, out var k) ? k : (e.Key, "an environment variable of the template");
            return new TemplateSetting(e.Key, e.Value, label, hint, e.Key.EndsWith("_JSON", StringComparison.Ordinal), SecretFilter.IsSecretKey(e.Key));
        }).ToArray();
        var profile = document.ComputeProfiles.Values.FirstOrDefault();
        var price = document.Placements.Values.SelectMany(p => p.Pricing.Values).FirstOrDefault();
        var (title, summary) = Readme(Path.Combine(Path.GetDirectoryName(file)!, "README.md"));
        return new DeployTemplate(name, title ?? name, summary ?? "", env.GetValueOrDefault("SKEIN_ROLE"), settings,
            profile is null ? "" : (profile.CpuMillis / 1000m).ToString("0.###", CultureInfo.InvariantCulture),
            profile is null ? "" : Size(profile.MemoryBytes), price?.Amount ?? "", price?.Denom ?? "uact");
    }

    /// <summary>The README's first heading and first paragraph, as the gallery's card shows them.</summary>
    private static (string? Title, string? Summary) Readme(string path)
    {
        if (!File.Exists(path))
        {
            return (null, null);
        }
        var lines = File.ReadAllLines(path);
        var title = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim();
        var paragraph = lines.SkipWhile(l => l.Length == 0 || l.StartsWith('#')).TakeWhile(l => l.Trim().Length > 0 && !l.StartsWith('#')).ToArray();
        return (title, paragraph.Length == 0 ? null : Plain(string.Join(' ', paragraph.Select(l => l.Trim()))));
    }

    /// <summary>Markdown's emphasis, code marks and links as plain text: the card shows words, not markup.</summary>
    private static string Plain(string markdown) => MarkdownLink().Replace(markdown, "$1").Replace("**", "", StringComparison.Ordinal).Replace("`", "", StringComparison.Ordinal);

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex MarkdownLink();

    private static string Size(ulong bytes) => bytes switch
    {
        _ when bytes >= 1UL << 30 && bytes % (1UL << 30) == 0 => $"{bytes >> 30}Gi",
        _ when bytes >= 1UL << 20 && bytes % (1UL << 20) == 0 => $"{bytes >> 20}Mi",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
