using Skein.Market.Sdl;
using Skein.Market.Templates;

namespace Skein.Market.Tests.Templates;

public sealed class TemplateRendererTests
{
    private static readonly string Root = TemplateRenderer.FindTemplatesRoot() ?? throw new InvalidOperationException("templates/ not found above the test output");
    private readonly TemplateRenderer _renderer = new(Root);

    public static TheoryData<string> Templates() => [.. new TemplateRenderer(Root).TemplateNames()];

    private static SdlDocument Valid(TemplateRenderResult result)
    {
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var parsed = SdlDocument.Parse(result.Yaml!);
        Assert.True(parsed.Ok, string.Join("\n", parsed.Errors));
        return parsed.Document!;
    }

    [Fact]
    public void The_repository_has_the_four_skein_templates()
    {
        Assert.Equal(["skein-coordinator", "skein-trainer", "skein-trainer-gpu", "skein-validator"], _renderer.TemplateNames());
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_validates_and_has_the_gallery_files(string name)
    {
        var folder = Path.Combine(Root, name);
        var result = SdlDocument.Load(Path.Combine(folder, "deploy.yaml"));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.True(File.Exists(Path.Combine(folder, "README.md")));
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.False(config.RootElement.GetProperty("ssh").GetBoolean());
        Assert.StartsWith("https://", config.RootElement.GetProperty("logoUrl").GetString(), StringComparison.Ordinal);
        Assert.Contains($"]({name})", File.ReadAllText(Path.Combine(Root, "README.md")), StringComparison.Ordinal);
        foreach (var service in result.Document!.Services.Values)
        {
            Assert.Equal("ghcr.io/skein-ai/skein:0.1", service.Image);
            Assert.Contains("SKEIN_DATA=/data", service.Env!);
            Assert.Contains(service.Env!, e => e.StartsWith("SKEIN_KEY_JSON=", StringComparison.Ordinal));
            Assert.Equal("/data", service.Storage["data"].Mount);
        }
    }

    [Fact]
    public void Rendering_without_settings_gives_the_template_s_own_manifest()
    {
        var rendered = Valid(_renderer.Render("skein-trainer", new Dictionary<string, string>()));
        var original = SdlDocument.Load(Path.Combine(Root, "skein-trainer", "deploy.yaml")).Document!;
        Assert.Equal(original.ToManifest().Hash, rendered.ToManifest().Hash);
    }

    [Fact]
    public void Upper_case_settings_set_env_values_of_every_service_that_declares_them()
    {
        const string keyJson = """{"address":"abc","crypto":{"cipher":"aes-128-ctr"},"version":3}""";
        var doc = Valid(_renderer.Render("skein-trainer", new Dictionary<string, string>
        {
            ["SKEIN_COORDINATOR"] = "http://10.0.0.1:7400/",
            ["SKEIN_KEY_JSON"] = keyJson,
            ["SKEIN_KEY_PASSWORD"] = "p: #not a comment",
        }));
        var env = doc.Services["trainer"].Env!;
        Assert.Contains("SKEIN_COORDINATOR=http://10.0.0.1:7400/", env);
        Assert.Contains("SKEIN_KEY_JSON=" + keyJson, env);
        Assert.Contains("SKEIN_KEY_PASSWORD=p: #not a comment", env);
        Assert.Contains("SKEIN_ROLE=trainer", env);
    }

    [Fact]
    public void An_unknown_env_variable_is_refused_with_the_template_s_variables_and_without_its_value()
    {
        var result = _renderer.Render("skein-validator", new Dictionary<string, string> { ["SKEIN_SECRET_TOKEN"] = "hunter22" });
        Assert.False(result.Ok);
        var error = Assert.Single(result.Errors);
        Assert.Contains("unknown variable SKEIN_SECRET_TOKEN", error, StringComparison.Ordinal);
        Assert.Contains("SKEIN_COORDINATOR, SKEIN_DATA, SKEIN_KEY_JSON", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter22", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Lower_case_settings_change_profiles_placements_and_deployment()
    {
        var doc = Valid(_renderer.Render("skein-trainer-gpu", new Dictionary<string, string>
        {
            ["image"] = "ghcr.io/me/skein:0.2",
            ["count"] = "3",
            ["cpu"] = "500m",
            ["memory"] = "16Gi",
            ["storage"] = "200Gi",
            ["gpu"] = "2",
            ["gpu_models"] = "h100, a100",
            ["price"] = "12000.50",
            ["denom"] = "uakt",
            ["attr.region"] = "eu-west",
            ["signed_by"] = "akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63,0x52908400098527886E0F7030069857D2E4169EE7",
        }));
        var group = doc.ToGroups().Single();
        var line = group.Resources.Single();
        Assert.Equal("ghcr.io/me/skein:0.2", doc.Services["trainer-gpu"].Image);
        Assert.Equal(3u, line.Count);
        Assert.Equal(500ul, line.Units.CpuMillis);
        Assert.Equal(16ul << 30, line.Units.MemoryBytes);
        Assert.Equal(200ul << 30, line.Units.Storage.Single(s => s.Name == "data").Bytes);
        Assert.Equal(10ul << 30, line.Units.Storage.Single(s => s.Name == "default").Bytes);
        Assert.Equal(2u, line.Units.GpuUnits);
        Assert.Equal(["h100", "a100"], line.Units.GpuModels.Select(m => m.Model));
        Assert.Equal(new Skein.Ledger.Market.DecCoin("uakt", "12000.5"), line.Price);
        Assert.Equal("eu-west", group.Requirements.Attributes["region"]);
        Assert.Equal(2, group.Requirements.SignedByAnyOf.Count);
    }

    [Fact]
    public void Gpu_settings_add_an_any_model_gpu_to_a_cpu_template_or_remove_it()
    {
        var withGpu = Valid(_renderer.Render("skein-trainer", new Dictionary<string, string> { ["gpu"] = "1" }));
        Assert.Equal([new Skein.Ledger.Market.GpuModel("nvidia", "*")], withGpu.ToGroups()[0].Resources[0].Units.GpuModels);
        var withoutGpu = Valid(_renderer.Render("skein-trainer-gpu", new Dictionary<string, string> { ["gpu"] = "0" }));
        Assert.Equal(0u, withoutGpu.ToGroups()[0].Resources[0].Units.GpuUnits);
    }

    [Theory]
    [InlineData("count", "0", "deployment.trainer.akash.count: count must be at least 1, got 0")]
    [InlineData("denom", "usd", "denom must be uact or uakt, got 'usd'")]
    [InlineData("memory", "lots", "'lots' is not a size")]
    [InlineData("signed_by", "alice", "'alice' is not an auditor address")]
    public void A_setting_that_makes_the_sdl_invalid_is_refused_with_the_sdl_errors(string key, string value, string error)
    {
        var result = _renderer.Render("skein-trainer", new Dictionary<string, string> { [key] = value });
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Contains(error, StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("deploy.yaml: ", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_setting_or_template_is_refused_with_what_exists()
    {
        var setting = _renderer.Render("skein-trainer", new Dictionary<string, string> { ["cpus"] = "2" });
        Assert.Contains("unknown setting 'cpus'", Assert.Single(setting.Errors), StringComparison.Ordinal);
        Assert.Contains("gpu_models", setting.Errors[0], StringComparison.Ordinal);
        var template = _renderer.Render("skein-miner", new Dictionary<string, string>());
        Assert.Contains("template 'skein-miner' not found", Assert.Single(template.Errors), StringComparison.Ordinal);
        Assert.Contains("skein-coordinator, skein-trainer", template.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_can_be_named_by_its_folder_or_file()
    {
        Valid(_renderer.Render(Path.Combine(Root, "skein-validator"), new Dictionary<string, string>()));
        Valid(_renderer.Render(Path.Combine(Root, "skein-validator", "deploy.yaml"), new Dictionary<string, string>()));
    }
}
