using System.Text;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>The small parts every runtime shares: ids, the secret filter, images, the core and GPU pool, line assembly.</summary>
public sealed class RuntimeBuildingBlocksTests
{
    [Theory]
    [InlineData("KEY")]
    [InlineData("skein_key_password")]
    [InlineData("Api-Secret")]
    [InlineData("HF_TOKEN")]
    [InlineData("wallet_mnemonic")]
    [InlineData("DB_PASSWORD")]
    public void Names_with_a_secret_marker_are_secret(string name) => Assert.True(SecretFilter.IsSecretKey(name));

    [Theory]
    [InlineData("PATH")]
    [InlineData("MODE")]
    [InlineData("SKEIN_TASK")]
    public void Other_names_are_not(string name) => Assert.False(SecretFilter.IsSecretKey(name));

    [Fact]
    public void Redaction_masks_values_of_secret_names_only()
    {
        var env = new Dictionary<string, string> { ["MODE"] = "train", ["Token"] = "abc", ["DB_PASSWORD"] = "hunter22" };

        Assert.Equal("{DB_PASSWORD=***, MODE=train, Token=***}", SecretFilter.Describe(env));
        Assert.Equal("***", SecretFilter.Redact(env)["Token"]);
    }

    [Fact]
    public void Secret_values_are_masked_inside_text_but_values_too_short_to_matter_are_not()
    {
        var filter = new SecretFilter(new Dictionary<string, string> { ["A_KEY"] = "k3y-long-one", ["SHORT_TOKEN"] = "ab", ["MODE"] = "k3y-long-one-visible" });

        Assert.Equal("--key *** and ab", filter.Apply("--key k3y-long-one and ab"));
    }

    [Fact]
    public void Lease_ids_become_safe_workload_ids()
    {
        Assert.Equal("0xabc-12-1-1-web-0", WorkloadId.Create("0xabc", 12, 1, 1, "web", 0));
        var odd = WorkloadId.Create("0xABC", 12, 1, 1, "My Service/../x", 2);
        Assert.True(WorkloadId.IsValid(odd), odd);
        Assert.NotEqual(odd, WorkloadId.Create("0xABC", 12, 1, 1, "My Service/../y", 2));
        Assert.True(WorkloadId.IsValid(WorkloadId.Create(new string('a', 300), 1, 1, 1, "s", 0)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("-leading-dash")]
    [InlineData("has space")]
    public void Unsafe_ids_are_refused(string id) => Assert.Throws<ArgumentException>(() => WorkloadId.Validate(id));

    [Fact]
    public void Command_and_args_replace_the_images_entrypoint_and_defaults_as_in_Kubernetes()
    {
        var image = ResolvedImage.DotNet("/opt/skein/skein.dll", "run-from-env");
        var spec = new WorkloadSpec("w", "s", "skein", [], [], new Dictionary<string, string>(), new(0, 0, 0, 0), new Dictionary<string, string>());

        Assert.Equal(["dotnet", "/opt/skein/skein.dll", "run-from-env"], image.CommandLine(spec));
        Assert.Equal(["dotnet", "/opt/skein/skein.dll", "node", "--x"], image.CommandLine(spec with { Args = ["node", "--x"] }));
        Assert.Equal(["/bin/true"], image.CommandLine(spec with { Command = ["/bin/true"] }));
    }

    [Fact]
    public void Catalog_takes_a_missing_tag_as_latest()
    {
        var catalog = new ImageCatalog().Add("ghcr.io/skein/skein", ResolvedImage.DotNet("skein.dll"));

        Assert.True(catalog.TryResolve("ghcr.io/skein/skein:latest", out _));
        Assert.True(catalog.TryResolve("ghcr.io/skein/skein", out _));
        Assert.False(catalog.TryResolve("ghcr.io/skein/skein:2", out _));
        Assert.False(catalog.TryResolve("localhost:5000/skein", out _));
    }

    [Fact]
    public void Shared_cores_go_to_the_least_used_and_rotate()
    {
        var pool = new SlotPool([0, 1, 2], exclusive: false);

        Assert.Equal([0], pool.TryAcquire(1));
        Assert.Equal([1], pool.TryAcquire(1));
        Assert.Equal([2], pool.TryAcquire(1));
        Assert.Equal([0, 1, 2], pool.TryAcquire(5));
        pool.Release([1]);
        pool.Release([1]);
        Assert.Equal([1], pool.TryAcquire(1));
    }

    [Fact]
    public void Exclusive_GPUs_are_refused_when_too_few_are_free_and_come_back_on_release()
    {
        var pool = new SlotPool([0, 1], exclusive: true);

        Assert.Equal([0, 1], pool.TryAcquire(2));
        Assert.Null(pool.TryAcquire(1));
        pool.Release([1]);
        Assert.Equal([1], pool.TryAcquire(1));
        Assert.Equal([], new SlotPool([], exclusive: true).TryAcquire(0));
        Assert.Null(new SlotPool([], exclusive: true).TryAcquire(1));
    }

    [Fact]
    public void Cpu_lists_parse_in_the_kernels_and_Dockers_forms()
    {
        Assert.Equal([0, 1, 2, 3, 6], SlotPool.Parse("0-3,6"));
        Assert.Equal([0, 2], SlotPool.Parse(" 0,2\n"));
        Assert.Empty(SlotPool.Parse(null));
        Assert.Equal("0,2,3", SlotPool.Format([0, 2, 3]));
    }

    [Fact]
    public void Lines_are_complete_only_at_their_newline_even_with_characters_split_across_reads()
    {
        var bytes = Encoding.UTF8.GetBytes("héllo\r\nwor€ld\npartial");
        var assembler = new LineAssembler();
        var lines = new List<string>();
        foreach (var b in bytes)
        {
            lines.AddRange(assembler.Append([b]));
        }

        Assert.Equal(["héllo", "wor€ld"], lines);
        Assert.Equal("partial", assembler.Flush());
        Assert.Null(assembler.Flush());
    }
}
