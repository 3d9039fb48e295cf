using System.CommandLine;
using System.Text.RegularExpressions;
using Skein.Market.Templates;

namespace Skein.Cli.Market;

/// <summary>`skein deploy render TEMPLATE [--set K=V]... [--out FILE]`: a template of templates/ with settings applied, validated.</summary>
public static partial class DeployRenderCommand
{
    public static Command Build()
    {
        var command = new Command("render", "Render a template (a name under templates/, a folder or a deploy.yaml) into a validated SDL");
        var template = new Argument<string>("template") { Description = "skein-trainer, skein-trainer-gpu, skein-validator, skein-coordinator, or a path" };
        var set = new Option<string[]>("--set")
        {
            Description = "KEY=value: UPPER_CASE sets an env variable of the template; image, count, cpu, memory, storage, gpu, gpu_models, price, denom, attr.<key>, signed_by set profiles",
            HelpName = "key=value",
            AllowMultipleArgumentsPerToken = false,
        };
        var output = new Option<string?>("--out") { Description = "Write the SDL to this file instead of stdout", HelpName = "file" };
        command.Add(template);
        command.Add(set);
        command.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var sets = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in parse.GetValue(set) ?? [])
            {
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    // Print only what precedes a value: a secret may have been typed without its '='.
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--set: expected KEY=value, got '{Redact(item)}'"]);
                }
                if (!sets.TryAdd(item[..eq], item[(eq + 1)..]))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--set: {item[..eq]} is set twice"]);
                }
            }
            var name = parse.GetValue(template)!;
            var root = TemplateRenderer.FindTemplatesRoot() ?? Path.Combine(Directory.GetCurrentDirectory(), "templates");
            var result = new TemplateRenderer(root).Render(name, sets);
            if (!result.Ok)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, result.Errors.Select(e => Scrub(e, sets)));
            }
            if (parse.GetValue(output) is { } path)
            {
                if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir && !Directory.Exists(dir))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--out: folder '{dir}' does not exist"]);
                }
                await File.WriteAllTextAsync(path, result.Yaml, ct);
                await stderr.WriteLineAsync($"{path}: rendered from {name} with {(sets.Count == 0 ? "no settings" : string.Join(", ", sets.Keys.Order(StringComparer.Ordinal)))}");
            }
            else
            {
                await parse.InvocationConfiguration.Output.WriteAsync(result.Yaml);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Keys whose values are never echoed: key files, passwords, secrets, tokens.</summary>
    public static bool IsSecret(string key) => SecretKey().IsMatch(key);

    private static string Redact(string item) => IsSecret(item) || item.Length > 40 ? "<hidden>" : item;

    // A renderer's messages never quote env values, but an SDL error may quote a lower-case setting: hide any
    // secret-named value that would still appear.
    private static string Scrub(string message, IReadOnlyDictionary<string, string> sets) =>
        sets.Where(kv => IsSecret(kv.Key) && kv.Value.Length > 0)
            .Aggregate(message, (m, kv) => m.Replace(kv.Value, "<hidden>", StringComparison.Ordinal));

    [GeneratedRegex("KEY|PASSWORD|SECRET|TOKEN", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();
}
