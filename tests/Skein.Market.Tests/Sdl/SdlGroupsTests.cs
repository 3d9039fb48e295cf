using Skein.Ledger.Market;
using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlGroupsTests
{
    [Fact]
    public void One_group_per_used_placement_in_ordinal_order_with_a_line_per_service_sorted_by_name()
    {
        var groups = SdlTestData.Load("valid/private-registry.yaml").ToGroups();
        Assert.Equal(["eu", "us"], groups.Select(g => g.Name));
        Assert.Equal(2u, groups[1].Resources.Single().Count);

        var multi = SdlTestData.Load("valid/multi-service.yaml").ToGroups().Single();
        Assert.Equal("dcloud", multi.Name);
        Assert.Equal(["api", "cache", "web"], multi.Resources.Select(r => r.Service));
        Assert.Equal([2u, 1u, 3u], multi.Resources.Select(r => r.Count));
    }

    [Fact]
    public void Resources_are_integers_cpu_in_millis_and_sizes_in_bytes()
    {
        var groups = SdlTestData.Load("valid/milli-cpu.yaml").ToGroups().Single();
        var web = groups.Resources.Single(r => r.Service == "web").Units;
        var worker = groups.Resources.Single(r => r.Service == "worker").Units;
        Assert.Equal(250ul, web.CpuMillis);
        Assert.Equal(128ul << 20, web.MemoryBytes);
        Assert.Equal(1500ul, worker.CpuMillis);
        Assert.Equal(1_000_000_000ul, worker.MemoryBytes);
        Assert.Equal(new DecCoin("uact", "0.5"), groups.Resources.Single(r => r.Service == "worker").Price);
    }

    [Fact]
    public void Every_size_suffix_converts_to_bytes()
    {
        var storage = SdlTestData.Load("valid/size-suffixes.yaml").ToGroups().Single().Resources.Single().Units.Storage
            .ToDictionary(s => s.Name, s => s.Bytes);
        Assert.Equal(10ul << 20, storage["default"]);
        Assert.Equal(10ul << 20, storage["v-ki"]);
        Assert.Equal(10_000_000ul, storage["v-m"]);
        Assert.Equal(10ul << 20, storage["v-mi"]);
        Assert.Equal(1_500_000_000ul, storage["v-g"]);
        Assert.Equal(3ul << 29, storage["v-gi"]);
        Assert.Equal(10_000_000_000ul, storage["v-t"]);
        Assert.Equal((ulong)(0.01m * (1ul << 40)), storage["v-ti"]);
        Assert.Equal(10_000_000_000ul, storage["v-p"]);
        Assert.Equal((ulong)(0.00001m * (1ul << 50)), storage["v-pi"]);
        Assert.Equal(10_000_000_000ul, storage["v-e"]);
        Assert.Equal((ulong)(0.00000001m * (1ul << 60)), storage["v-ei"]);
    }

    [Fact]
    public void Storage_classes_persistence_and_gpu_models_reach_the_group()
    {
        var beta = SdlTestData.Load("valid/persistent-beta-classes.yaml").ToGroups().Single().Resources.Single().Units.Storage;
        Assert.Equal(["ephemeral", "beta1", "beta2", "beta3"], beta.Select(s => s.Class));
        Assert.Equal([false, true, true, true], beta.Select(s => s.Persistent));
        var ram = SdlTestData.Load("valid/ram-shm.yaml").ToGroups().Single().Resources.Single().Units.Storage[1];
        Assert.Equal(new StorageUnits("shm", 8ul << 30, "ram", false), ram);

        var gpu = SdlTestData.Load("valid/gpu-model-list.yaml").ToGroups().Single().Resources.Single().Units;
        Assert.Equal(1u, gpu.GpuUnits);
        Assert.Equal(new GpuModel("nvidia", "h100", "80Gi", "sxm"), gpu.GpuModels[0]);
        Assert.Equal(new GpuModel("nvidia", "rtx4090"), gpu.GpuModels[3]);
        var any = SdlTestData.Load("valid/gpu-any-model.yaml").ToGroups().Single().Resources.Single().Units;
        Assert.Equal([new GpuModel("nvidia", "*")], any.GpuModels);
    }

    [Fact]
    public void Placement_requirements_keep_attributes_as_text_and_both_auditor_lists()
    {
        var anyOf = SdlTestData.Load("valid/placement-signed-anyof.yaml").ToGroups().Single();
        Assert.Equal("1", anyOf.Requirements.Attributes["tier"]);
        Assert.Equal("true", anyOf.Requirements.Attributes["datacenter"]);
        Assert.Equal(3, anyOf.Requirements.SignedByAnyOf.Count);
        Assert.Empty(anyOf.Requirements.SignedByAllOf);
        Assert.Equal(new DecCoin("uact", "1000.5"), anyOf.Resources.Single().Price);

        var allOf = SdlTestData.Load("valid/placement-signed-allof.yaml").ToGroups().Single();
        Assert.Equal(["akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63", "akash18qa2a2ltfyvkyj0ggj3hkvuj6twzyumuaru9s4"], allOf.Requirements.SignedByAllOf);
    }

    [Fact]
    public void A_tee_service_makes_its_group_require_the_tee_type()
    {
        var group = SdlTestData.Load("valid/gpu-tee.yaml").ToGroups().Single();
        Assert.Equal("cpu-gpu", group.Requirements.Attributes["tee/type"]);
    }

    [Fact]
    public void Groups_survive_the_ledger_s_canonical_json()
    {
        var groups = SdlTestData.Load("valid/gpu-model-list.yaml").ToGroups();
        var json = GroupSpec.ToCanonicalJson(groups);
        var back = GroupSpec.FromJson(json);
        Assert.Equal(json, GroupSpec.ToCanonicalJson(back));
        Assert.Equal(4, back[0].Resources[0].Units.GpuModels.Count);
    }
}
