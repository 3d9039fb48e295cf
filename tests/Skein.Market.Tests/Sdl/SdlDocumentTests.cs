using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlDocumentTests
{
    [Fact]
    public void Every_error_is_collected_not_only_the_first()
    {
        var text = SdlTestData.Text("valid/web-cpu-basic.yaml")
            .Replace("port: 80", "port: 0", StringComparison.Ordinal)
            .Replace("units: 0.5", "units: abc", StringComparison.Ordinal)
            .Replace("denom: uact", "denom: usd", StringComparison.Ordinal)
            .Replace("count: 1", "count: 0", StringComparison.Ordinal);
        var result = SdlDocument.Parse(text, "mine.yaml");
        Assert.False(result.Ok);
        Assert.Equal(
            [
                "services.web.expose[0].port",
                "profiles.compute.web.resources.cpu.units",
                "profiles.placement.dcloud.pricing.web.denom",
                "deployment.web.dcloud.count",
            ],
            result.Errors.Select(e => e.Path));
    }

    [Fact]
    public void An_error_prints_as_file_path_message()
    {
        var result = SdlDocument.Parse(SdlTestData.Text("invalid/gpu-attributes-without-units.yaml"));
        Assert.Equal("deploy.yaml: profiles.compute.train.resources.gpu: units must be > 0 when attributes are set", result.Errors.Single().ToString());
    }

    [Fact]
    public void A_file_ending_inside_a_bracket_is_one_malformed_yaml_error_with_a_line()
    {
        var result = SdlDocument.Parse("version: \"2.0\"\nservices: [web\n");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("line ", error.Path, StringComparison.Ordinal);
        Assert.StartsWith("malformed YAML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "(root)", "the file is empty; an SDL needs version, services, profiles and deployment")]
    [InlineData("- a\n- b\n", "(root)", "must be a mapping with version, services, profiles and deployment, got a list")]
    [InlineData("version: \"2.0\"\n", "(root)", "services is required")]
    [InlineData("a: 1\n---\nb: 2\n", "(root)", "one YAML document expected, found 2 (separated by ---)")]
    [InlineData("version: 2.0\nversion: 2.1\n", "line 2, column 1", "malformed YAML: Duplicate key")]
    public void Documents_that_are_not_an_sdl_say_why(string yaml, string path, string message)
    {
        var result = SdlDocument.Parse(yaml);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void An_unquoted_version_number_is_accepted_as_Akash_reads_its_text()
    {
        var text = SdlTestData.Text("valid/web-cpu-basic.yaml").Replace("version: \"2.0\"", "version: 2.1", StringComparison.Ordinal);
        Assert.Equal("2.1", SdlTestData.Parse(text).Version);
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_the_file()
    {
        var result = SdlDocument.Load("/no/such/deploy.yaml");
        Assert.Equal("/no/such/deploy.yaml", Assert.Single(result.Errors).File);
    }

    [Fact]
    public void Deployment_lines_are_sorted_by_service_then_placement()
    {
        var doc = SdlTestData.Load("valid/multi-service.yaml");
        Assert.Equal(["api", "cache", "web"], doc.Deployments.Select(d => d.Service));
        Assert.Equal(["api", "cache", "web"], doc.Services.Keys);
    }

    [Fact]
    public void Anchors_aliases_and_merge_keys_are_resolved_as_Akash_s_yaml_decoder_does()
    {
        var doc = SdlTestData.Parse("""
            version: "2.0"
            services:
              web:
                image: nginx:1.27
                expose:
                  - port: 80
                    to:
                      - global: true
            profiles:
              compute:
                base: &base
                  resources:
                    cpu: {units: 1}
                    memory: {size: 1Gi}
                    storage: {size: 1Gi}
                web:
                  <<: *base
              placement:
                dcloud:
                  pricing:
                    web: &price {denom: uact, amount: 100}
                    base: *price
            deployment:
              web:
                dcloud: {profile: web, count: 1}
            """);
        Assert.Equal(1000ul, doc.ComputeProfiles["web"].CpuMillis);
        Assert.Equal("100", doc.Placements["dcloud"].Pricing["base"].Amount);
    }
}
