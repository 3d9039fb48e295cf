using Skein.Ledger.Crypto;
using Skein.Market.Sdl;
using Skein.Market.Templates;

namespace Skein.Market.Deploy;

/// <summary>A plan read from a template or an SDL file, or the errors that stop it (each naming its file and path).</summary>
public sealed record DeploySourceResult(DeployPlan? Plan, string? Yaml, IReadOnlyList<string> Errors, IReadOnlyList<string> NodeAddresses)
{
    public bool Ok => Plan is not null && Errors.Count == 0;
}

/// <summary>Turns `skein deploy`'s first argument (a template name, a template folder or an SDL file) and its settings into a deploy plan.</summary>
public static class DeploySource
{
    public static DeploySourceResult Load(string templateOrFile, IReadOnlyDictionary<string, string> sets, string? templatesRoot = null)
    {
        ArgumentNullException.ThrowIfNull(templateOrFile);
        ArgumentNullException.ThrowIfNull(sets);
        string yaml;
        string fileName;
        if (File.Exists(templateOrFile) && sets.Count == 0)
        {
            yaml = File.ReadAllText(templateOrFile);
            fileName = Path.GetFileName(templateOrFile);
        }
        else
        {
            var renderer = new TemplateRenderer(templatesRoot ?? TemplateRenderer.FindTemplatesRoot() ?? Path.Combine(Directory.GetCurrentDirectory(), "templates"));
            var rendered = renderer.Render(templateOrFile, sets);
            if (!rendered.Ok)
            {
                return new DeploySourceResult(null, null, rendered.Errors, []);
            }
            yaml = rendered.Yaml!;
            fileName = Path.GetFileName(templateOrFile) + "/deploy.yaml";
        }
        var parsed = SdlDocument.Parse(yaml, fileName);
        if (!parsed.Ok)
        {
            return new DeploySourceResult(null, yaml, parsed.Errors.Select(e => e.ToString()).ToArray(), []);
        }
        var document = parsed.Document!;
        var manifest = document.ToManifest();
        // A node's address is public: read it from the key file in the env (without the password) to report it.
        var nodes = document.Services.Values.SelectMany(s => s.Env ?? [])
            .Where(e => e.StartsWith("SKEIN_KEY_JSON=", StringComparison.Ordinal) && e.Length > "SKEIN_KEY_JSON=".Length)
            .Select(string? (e) =>
            {
                try
                {
                    return KeyFile.ReadAddress(e["SKEIN_KEY_JSON=".Length..]).ToString();
                }
                catch (Exception ex) when (ex is FormatException or KeyStoreException or System.Text.Json.JsonException or ArgumentException)
                {
                    return null;
                }
            }).OfType<string>().Distinct().ToArray();
        return new DeploySourceResult(new DeployPlan(document.ToGroups(), manifest.Json, manifest.Hash), yaml, [], nodes);
    }
}
