using System.Text;
using Skein.Market.Sdl;

namespace Skein.Fuzz.Targets;

/// <summary>Akash SDL (YAML): <see cref="SdlDocument.Parse"/>, then the deployment groups and manifest a tenant's deploy derives from an accepted one.</summary>
internal static class SdlTarget
{
    private static readonly string[] Keys =
    [
        "version", "services", "profiles", "deployment", "endpoints", "include", "reclamation", "image", "command", "args", "env", "expose", "port", "as",
        "to", "global", "service", "ip", "accept", "proto", "http_options", "params", "storage", "mount", "readOnly", "credentials", "host", "username",
        "password", "compute", "placement", "resources", "cpu", "units", "memory", "size", "gpu", "attributes", "vendor", "nvidia", "model", "ram",
        "interface", "persistent", "class", "pricing", "denom", "amount", "signedBy", "allOf", "anyOf", "profile", "count", "kind", "min_window",
        "dependencies", "max_body_size", "read_timeout", "next_cases", "next_tries", "name", "region",
    ];

    private static readonly string[] Syntax =
    [
        "&a ", "*a", "<<: *a\n", "<<: [*a, *a]\n", "---\n", "...\n", "? ", ": ", "- ", "!!str ", "!!int ", "!!binary ", "!!map ", "!!seq ", "!!null ", "|\n  ",
        ">-\n  ", "{", "}", "[", "]", "\"", "'", "#", "%YAML 1.2\n", "%TAG ! tag:a,2000:\n", "\t", "\n  ", "\n    ", "\n", "~", "null", "true", "0x10",
        "0o17", ".inf", ".nan", "1e3", "1Gi", "512Mi", "0.5", "100m", "uakt", "uact", "\"2.0\"", "\"2.1\"", "@", "`", "!<tag:yaml.org,2002:str> ",
    ];

    public static FuzzTarget Create() => new()
    {
        Name = "sdl",
        Description = "SdlDocument.Parse: Akash SDL 2.0/2.1 (YAML with anchors and merge keys), then its groups and manifest",
        Seeds = SeedFiles.Load("sdl"),
        Dictionary = FuzzText.Of(Keys.Select(k => k + ": "), Keys, Syntax),
        Generate = SdlGenerator.Next,
        Run = input =>
        {
            var result = SdlDocument.Parse(FuzzText.Text(input));
            if (result.Document is not { } document)
            {
                if (result.Errors.Count == 0)
                {
                    throw new FuzzInvariantException("refused without naming an error");
                }
                return FuzzOutcome.Refused;
            }
            _ = document.ToGroups();
            _ = document.ToManifest();
            return FuzzOutcome.Accepted;
        },
        MaxInputBytes = 32 << 10,
    };

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
