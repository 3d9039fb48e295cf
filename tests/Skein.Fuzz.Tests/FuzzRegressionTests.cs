using System.Text;
using System.Text.Json;
using Skein.Core;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;
using Skein.Market.Sdl;

namespace Skein.Fuzz.Tests;

/// <summary>
/// Every input fuzzing found that crashed a parser, exactly as found (Regressions/TARGET--seedS-inputI.bin: made by
/// `skein bench fuzz --seed S`, input I), and for each bug the refusal it now gets, naming the field and the rule.
/// </summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string> Files => [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Regressions"), "*.bin").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Files))]
    public void An_input_that_once_crashed_its_parser_is_now_refused(string file)
    {
        using var target = FuzzTargets.Create(file[..file.IndexOf("--", StringComparison.Ordinal)]);
        Assert.Equal(FuzzOutcome.Refused, target.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Regressions", file))));
    }

    private static byte[] SafeTensorsFile(string header, int dataBytes = 0)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void Safetensors_data_offsets_that_are_not_numbers_are_refused_not_an_InvalidOperationException()
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(SafeTensorsFile("""{"t":{"dtype":"I16","shape":[1],"data_offsets":["x",2]}}""", 2)));
        Assert.Contains("data_offsets", e.Message);
    }

    [Fact]
    public void A_safetensors_header_that_is_not_UTF8_is_refused()
    {
        var header = Encoding.UTF8.GetBytes("""{"__metadata__":{"a":"b"}}""");
        header[20] = 0xff;
        var bytes = new byte[8 + header.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(bytes, 8);
        Assert.Contains("UTF-8", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes)).Message);
    }

    [Fact]
    public void A_safetensors_tensor_named_twice_or_not_at_all_is_refused()
    {
        var twice = SafeTensorsFile("""{"h":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"h":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2);
        Assert.Contains("'h' appears twice", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(twice)).Message);
        var unnamed = SafeTensorsFile("""{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", 1);
        Assert.Contains("name is empty", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(unnamed)).Message);
    }

    [Fact]
    public void A_safetensors_shape_whose_size_overflows_is_refused_instead_of_wrapping_to_zero_bytes()
    {
        // 2^62 * 2^62 elements wrapped to 0 before, so an empty data span "matched" it.
        var bytes = SafeTensorsFile("""{"t":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}""");
        Assert.Contains("64 bits", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes)).Message);
    }

    [Fact]
    public void A_task_spec_with_null_for_a_field_that_has_no_null_is_refused_naming_the_field()
    {
        var e = Assert.Throws<FormatException>(() => TaskSpec.Parse("""{ "name": "m", "model": "2nn", "rounds": 1, "trainers_per_round": 1, "reward_pool": "1", "min_stake": null }"""));
        Assert.Contains("min_stake", e.Message);
        Assert.Contains("model", Assert.Throws<FormatException>(() => TaskSpec.Parse("""{ "name": "m", "model": null, "rounds": 1 }""")).Message);
    }

    [Fact]
    public void An_sdl_merge_key_without_an_anchor_is_refused_as_malformed_yaml()
    {
        // The alias check below MergingParser now names the missing anchor; a merge of a scalar still reaches MergingParser.
        var result = SdlDocument.Parse("version: \"2.0\"\nservices:\n  <<: *a\n");
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Message.Contains("names no anchor defined before it", StringComparison.Ordinal));
        var scalar = SdlDocument.Parse("a: &a 1\nservices:\n  <<: *a\n");
        Assert.False(scalar.Ok);
        Assert.Contains(scalar.Errors, e => e.Message.StartsWith("malformed YAML", StringComparison.Ordinal));
    }

    [Fact]
    public void Sdl_nested_deeper_than_the_limit_is_refused_before_the_tree_is_built()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = SdlDocument.Parse("version: \"2.0\"\nservices: " + new string('[', 100_000));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Message.Contains("nested deeper than 64", StringComparison.Ordinal));
    }

    [Fact]
    public void Sdl_merge_keys_that_expand_exponentially_are_refused()
    {
        var yaml = new StringBuilder("a0: &a0 {x: 1, y: 2}\n");
        for (var i = 1; i <= 30; i++)
        {
            yaml.Append($"a{i}: &a{i} {{<<: [*a{i - 1}], k{i}: {{<<: *a{i - 1}}}, l{i}: {{<<: *a{i - 1}}}}}\n");
        }
        var result = SdlDocument.Parse(yaml.ToString());
        Assert.False(result.Ok);
        // YamlDotNet's own limit on events (100,000) stops the expansion; what matters is a refusal, and a quick one.
        Assert.Contains(result.Errors, e => e.Message.StartsWith("malformed YAML", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("&a {*a : 1}")]
    [InlineData("a: &a {b: *a}")]
    [InlineData("a: &a [*a]")]
    [InlineData("version: \"2.0\"\nservices: &s\n  web:\n    <<: *s\n")]
    [InlineData("{*x : 1, *x : 2}")]
    [InlineData("a: {*x : 1, *y : 2}\nb: &x 1\n")]
    public void An_sdl_alias_inside_the_node_it_names_or_before_its_anchor_is_refused_instead_of_overflowing_the_stack(string yaml)
    {
        // Found by skein bench fuzz --seed 20261201: the process died of a stack overflow in YamlAliasNode.Equals.
        var result = SdlDocument.Parse(yaml);
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Message.Contains("(a cycle)", StringComparison.Ordinal) || e.Message.Contains("names no anchor defined before it", StringComparison.Ordinal));
    }

    [Fact]
    public void An_sdl_alias_to_a_finished_node_still_works()
    {
        var result = SdlDocument.Parse("a: &a {b: 1}\nc: *a\n");
        Assert.DoesNotContain(result.Errors, e => e.Message.Contains("(a cycle)", StringComparison.Ordinal));
    }

    [Fact]
    public void Sdl_cpu_units_past_decimal_range_over_a_thousand_are_refused_not_an_OverflowException()
    {
        var yaml = Encoding.UTF8.GetString(SeedYaml()).Replace("units: 2", "units: 4294967294967294967294967296", StringComparison.Ordinal);
        var result = SdlDocument.Parse(yaml);
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Path.EndsWith("cpu.units", StringComparison.Ordinal));
    }

    private static byte[] SeedYaml() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Regressions", "sdl--seed20261201-input233217.bin"));

    [Fact]
    public void A_transaction_without_a_type_is_a_JsonException_naming_tx()
    {
        var e = Assert.Throws<JsonException>(() => SignedTransaction.FromJson("""{"tx":{"from":"0x0000000000000000000000000000000000000001","nonce":0},"signature":"0x00"}"""));
        Assert.StartsWith("tx: must have a \"type\"", e.Message);
    }

    [Fact]
    public void A_transaction_amount_past_2_pow_128_is_a_JsonException_not_an_OverflowException()
    {
        var json = """{"tx":{"type":"transfer","from":"0x0000000000000000000000000000000000000001","nonce":0,"to":"0x0000000000000000000000000000000000000002","amount":"340282366920938463463374607431768211456"},"signature":"0x00"}""";
        Assert.Contains("whole number of base units", Assert.Throws<JsonException>(() => SignedTransaction.FromJson(json)).Message);
    }

    [Fact]
    public void A_transaction_with_null_where_there_is_none_is_refused_at_the_parse()
    {
        Assert.Contains("$.tx", Assert.Throws<JsonException>(() => SignedTransaction.FromJson("""{"tx":null,"signature":"0x00"}""")).Message);
        Assert.Contains("signature: is required", Assert.Throws<JsonException>(() => SignedTransaction.FromJson(
            """{"tx":{"type":"transfer","from":"0x0000000000000000000000000000000000000001","nonce":0,"to":"0x0000000000000000000000000000000000000002","amount":"1"}}""")).Message);
        Assert.Throws<JsonException>(() => SignedTransaction.FromJson(
            """{"tx":{"type":"create_deployment","from":"0x0000000000000000000000000000000000000001","nonce":0,"dseq":1,"manifest_hash":"0x0000000000000000000000000000000000000000000000000000000000000000","groups":null,"deposit":"1"},"signature":"0x00"}"""));
    }

    [Fact]
    public void A_genesis_balance_past_2_pow_128_is_a_JsonException()
    {
        var json = """{"chain_id":1,"params":{"incentives":null,"unbonding_blocks":1},"allocations":[{"address":"0x0000000000000000000000000000000000000001","balance":"999999999999999999999999999999999999999999"}],"timestamp":0}""";
        Assert.Throws<JsonException>(() => GenesisJson.Deserialize(json));
    }
}
