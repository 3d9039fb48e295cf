using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlManifestTests
{
    [Theory]
    [InlineData("akash/tetris.yaml", "0xee52e329aa45b0638c27065d52eb0dc92f6704194bc63c6435c56fb549dded7d")]
    [InlineData("akash/tetris-main.yaml", "0x838f09afb4073a3ca8eb25ff5f4f02fb9d2cde6985be636b04ede17401154583")]
    [InlineData("akash/minesweeper.yaml", "0x76857258cd925b92f12f93ebc8f488c637a17708764f7996d54ad02c2564f174")]
    public void Manifest_hash_equals_the_deployment_version_Akash_computes(string file, string akashVersion)
    {
        Assert.Equal(akashVersion, SdlTestData.Load(file).ToManifest().Hash.ToString());
    }

    [Fact]
    public void Manifest_json_is_byte_for_byte_the_sorted_json_Akash_hashes()
    {
        const string akash = """[{"name":"akash","services":[{"args":null,"command":null,"count":1,"credentials":null,"env":null,"expose":[{"endpointSequenceNumber":0,"externalPort":80,"global":true,"hosts":null,"httpOptions":{"maxBodySize":1048576,"nextCases":["error","timeout"],"nextTimeout":0,"nextTries":3,"readTimeout":60000,"sendTimeout":60000},"ip":"","port":80,"proto":"TCP","service":""}],"image":"bsord/tetris","name":"tetris","resources":{"cpu":{"units":{"val":"1000"}},"endpoints":[{"sequence_number":0}],"gpu":{"units":{"val":"0"}},"id":1,"memory":{"size":{"val":"536870912"}},"storage":[{"name":"default","size":{"val":"536870912"}}]}}]}]""";
        Assert.Equal(akash, SdlTestData.Load("akash/tetris.yaml").ToManifest().Json);
    }

    [Fact]
    public void Reordering_keys_and_services_in_the_yaml_does_not_change_the_hash()
    {
        var original = SdlTestData.Load("valid/multi-service.yaml").ToManifest();
        // The same deployment written with services, sections and keys in another order.
        var reordered = SdlTestData.Parse("""
            deployment:
              cache:
                dcloud:
                  count: 1
                  profile: small
              web:
                dcloud: {count: 3, profile: small}
              api:
                dcloud:
                  profile: medium
                  count: 2
            profiles:
              placement:
                dcloud:
                  pricing:
                    medium: {amount: 800, denom: uact}
                    small: {amount: "100.000", denom: uact}
              compute:
                medium:
                  resources:
                    storage: {size: 5Gi}
                    memory: {size: 2Gi}
                    cpu: {units: 2000m}
                small:
                  resources:
                    cpu: {units: 0.25}
                    memory: {size: 256Mi}
                    storage: {size: 512Mi}
            services:
              cache:
                expose:
                  - to: [{service: api}]
                    port: 6379
                image: redis:7
              api:
                expose:
                  - port: 8080
                    to:
                      - service: web
                env: [CACHE_URL=redis://cache:6379, WORKERS=4]
                image: ghcr.io/example/api:2.3
              web:
                dependencies: [{service: api}]
                image: nginx:1.27
                expose:
                  - {as: 80, port: 80, to: [{global: true}]}
            version: "2.0"
            """).ToManifest();
        Assert.Equal(original.Hash, reordered.Hash);
        Assert.Equal(original.Json, reordered.Json);
    }

    [Theory]
    [InlineData("CACHE_URL=redis://cache:6379", "CACHE_URL=redis://cache:6380")]
    [InlineData("image: redis:7", "image: redis:7.4")]
    [InlineData("count: 3", "count: 4")]
    [InlineData("units: 2\n", "units: 3\n")]
    public void Changing_an_env_value_image_count_or_resource_changes_the_hash(string before, string after)
    {
        var text = SdlTestData.Text("valid/multi-service.yaml");
        Assert.Contains(before, text, StringComparison.Ordinal);
        var original = SdlTestData.Parse(text).ToManifest();
        var changed = SdlTestData.Parse(text.Replace(before, after, StringComparison.Ordinal)).ToManifest();
        Assert.NotEqual(original.Hash, changed.Hash);
    }

    [Fact]
    public void Manifest_carries_env_values_for_the_provider()
    {
        var json = SdlTestData.Load("valid/persistent-default-class.yaml").ToManifest().Json;
        Assert.Contains("\"env\":[\"POSTGRES_PASSWORD=change-me\"]", json, StringComparison.Ordinal);
        Assert.Contains("\"params\":{\"storage\":[{\"mount\":\"/var/lib/postgresql/data\",\"name\":\"data\",\"readOnly\":false}]}", json, StringComparison.Ordinal);
        Assert.Contains("\"attributes\":[{\"key\":\"class\",\"value\":\"default\"},{\"key\":\"persistent\",\"value\":\"true\"}]", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Gpu_models_become_Akash_attribute_keys_with_ram_in_whole_Gi()
    {
        var json = SdlTestData.Load("valid/gpu-tee.yaml").ToManifest().Json;
        Assert.Contains("{\"key\":\"vendor/nvidia/model/h100/ram/80Gi/interface/sxm\",\"value\":\"true\"}", json, StringComparison.Ordinal);
        Assert.Contains("\"tee\":{\"attestation\":true,\"type\":\"cpu-gpu\"}", json, StringComparison.Ordinal);
        var any = SdlTestData.Load("valid/gpu-any-model.yaml").ToManifest().Json;
        Assert.Contains("\"gpu\":{\"attributes\":[{\"key\":\"vendor/nvidia/model/*\",\"value\":\"true\"}],\"units\":{\"val\":\"2\"}}", any, StringComparison.Ordinal);
    }

    [Fact]
    public void Exposes_resolve_to_global_service_and_leased_ip_endpoints()
    {
        var json = SdlTestData.Load("valid/sdl-21-ip-endpoint.yaml").ToManifest().Json;
        // Port 80 over TCP is shared HTTP (kind 0, omitted); other global ports are random ports (kind 1); the IP is kind 2.
        Assert.Contains("\"endpoints\":[{\"sequence_number\":0},{\"kind\":2,\"sequence_number\":2},{\"kind\":1,\"sequence_number\":0},{\"kind\":2,\"sequence_number\":2},{\"kind\":1,\"sequence_number\":0}]", json, StringComparison.Ordinal);
        Assert.Contains("\"hosts\":[\"www.example.com\",\"example.com\"]", json, StringComparison.Ordinal);
        var multi = SdlTestData.Load("valid/multi-service.yaml").ToManifest().Json;
        Assert.Contains("\"global\":false,\"hosts\":null,\"httpOptions\"", multi, StringComparison.Ordinal);
        Assert.Contains("\"port\":6379,\"proto\":\"TCP\",\"service\":\"api\"", multi, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_are_escaped_as_Go_escapes_them()
    {
        var text = SdlTestData.Text("valid/web-cpu-basic.yaml").Replace("    image: nginx:1.27\n", "    image: nginx:1.27\n    env:\n      - \"HTML=<a href='x'>&amp;</a>\\t\\u2028\"\n", StringComparison.Ordinal);
        var json = SdlTestData.Parse(text).ToManifest().Json;
        Assert.Contains("\"HTML=\\u003ca href='x'\\u003e\\u0026amp;\\u003c/a\\u003e\\t\\u2028\"", json, StringComparison.Ordinal);
    }
}
