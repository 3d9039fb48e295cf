using System.Text.RegularExpressions;
using Skein.Market.Sdl;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Skein.Market.Templates;

/// <summary>
/// Renders a template of <c>templates/</c> (Akash's gallery layout: a folder with <c>deploy.yaml</c>) into an SDL with
/// settings applied: <c>UPPER_CASE</c> keys set the env variable of every service that declares it, lower-case keys
/// set profile values (see <see cref="ProfileKeys"/>). The YAML tree is edited, never the text, and the result must
/// validate. Comments of the template do not survive: YamlDotNet's representation model does not keep them.
/// </summary>
public sealed partial class TemplateRenderer(string templatesRoot)
{
    /// <summary>The lower-case keys a render accepts, with what each sets.</summary>
    public static IReadOnlyDictionary<string, string> ProfileKeys { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["image"] = "the image of every service",
        ["count"] = "the instance count of every deployment line",
        ["cpu"] = "CPU units of every compute profile (2, 0.5, 500m)",
        ["memory"] = "memory size of every compute profile (4Gi)",
        ["storage"] = "size of each compute profile's first persistent volume, else of its only volume (100Gi)",
        ["gpu"] = "GPU units of every compute profile (0 removes the GPU)",
        ["gpu_models"] = "accepted NVIDIA models, comma-separated (h100,a100), or * for any",
        ["price"] = "the price ceiling per instance and block of every profile in every placement",
        ["denom"] = "the denomination of every price (uact or uakt)",
        ["attr.<key>"] = "a placement attribute every provider must have",
        ["signed_by"] = "auditor addresses, comma-separated, of which any one must have signed the attributes",
    };

    // Akash's gallery accepts either spelling.
    private static readonly string[] DeployFileNames = ["deploy.yaml", "deploy.yml"];

    public string TemplatesRoot { get; } = templatesRoot;

    /// <summary>
    /// The repository's <c>templates/</c> folder: the first one found walking up from <paramref name="start"/>
    /// (default: the application's base directory), or null.
    /// </summary>
    public static string? FindTemplatesRoot(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "templates");
            if (File.Exists(Path.Combine(candidate, "README.md")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The names of the templates under <see cref="TemplatesRoot"/>.</summary>
    public IReadOnlyList<string> TemplateNames() => !Directory.Exists(TemplatesRoot) ? [] :
        [.. Directory.GetDirectories(TemplatesRoot).Where(d => DeployFile(d) is not null).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    /// <summary>The deploy.yaml of a template given by name, folder or file; null when there is none.</summary>
    public string? Resolve(string templateDirOrName)
    {
        ArgumentNullException.ThrowIfNull(templateDirOrName);
        if (File.Exists(templateDirOrName))
        {
            return templateDirOrName;
        }
        if (Directory.Exists(templateDirOrName) && DeployFile(templateDirOrName) is { } inFolder)
        {
            return inFolder;
        }
        return NamePattern().IsMatch(templateDirOrName) ? DeployFile(Path.Combine(TemplatesRoot, templateDirOrName)) : null;
    }

    /// <summary>Applies <paramref name="sets"/> to a template and validates the result.</summary>
    public TemplateRenderResult Render(string templateDirOrName, IReadOnlyDictionary<string, string> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        if (Resolve(templateDirOrName) is not { } file)
        {
            var known = TemplateNames();
            return Fail($"template '{templateDirOrName}' not found; templates in {TemplatesRoot}: {(known.Count == 0 ? "none" : string.Join(", ", known))}");
        }
        var template = SdlDocument.Load(file);
        if (!template.Ok)
        {
            return new TemplateRenderResult(null, [$"the template {file} is not a valid SDL:", .. template.Errors.Select(e => e.ToString())]);
        }
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file)));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var edit = new TemplateEdit(root);
        var errors = new List<string>();
        foreach (var (key, value) in sets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (edit.Apply(key, value) is { } error)
            {
                errors.Add(error);
            }
        }
        if (errors.Count > 0)
        {
            return new TemplateRenderResult(null, errors);
        }
        var writer = new StringWriter();
        writer.WriteLine($"# Rendered from {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file)))} by `skein deploy render`.");
        stream.Save(new Emitter(writer, new EmitterSettings().WithIndentedSequences()), assignAnchors: false);
        var yaml = DocumentEnd().Replace(writer.ToString(), "");
        var rendered = SdlDocument.Parse(yaml, Path.GetFileName(file));
        return rendered.Ok
            ? new TemplateRenderResult(yaml, [])
            : new TemplateRenderResult(null, ["the settings make the SDL invalid:", .. rendered.Errors.Select(e => e.ToString())]);
    }

    private static string? DeployFile(string folder) =>
        DeployFileNames.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);

    private static TemplateRenderResult Fail(string error) => new(null, [error]);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    // YamlDotNet ends a saved document with an explicit "..." marker; an SDL file has none.
    [GeneratedRegex(@"(?m)^\.\.\.\r?\n?\z")]
    private static partial Regex DocumentEnd();
}
