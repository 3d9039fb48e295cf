using System.Text.Json;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Tests.Rules;

namespace Skein.Ledger.Tests.Storage;

/// <summary>A genesis file from someone else: each kind of mistake is refused with the field it is in named.</summary>
public sealed class GenesisFileTests
{
    private static readonly TestChain Chain = new("alice", "bob");

    private static string Valid => GenesisJson.Serialize(Chain.Genesis);

    [Fact]
    public void A_valid_file_round_trips()
    {
        var read = GenesisJson.Deserialize(Valid);
        Assert.Equal(Valid, GenesisJson.Serialize(read));
        Assert.Null(read.Validate());
    }

    [Theory]
    [InlineData("\"chain_id\"", "\"chain_idd\"", "genesis.chain_idd: unknown field")]
    [InlineData("\"unbonding_blocks\"", "\"unbonding_block\"", "genesis.params.unbonding_block: unknown field")]
    [InlineData("\"balance\":\"", "\"balance\":\"-", "genesis.allocations[0].balance: an amount must be a whole number")]
    [InlineData("\"address\":\"0x", "\"address\":\"0xzz", "genesis.allocations[0].address: \"0xzz")]
    [InlineData("\"timestamp\":0", "\"timestamp\":\"soon\"", "genesis.timestamp:")]
    public void A_mistake_in_the_file_is_refused_naming_its_field(string find, string replace, string expected)
    {
        var bad = Valid.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Valid, bad);
        var ex = Assert.Throws<JsonException>(() => GenesisJson.Deserialize(bad));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_second_allocation_of_an_address_is_refused_naming_it()
    {
        var alice = Chain["alice"].ToString();
        var twice = Valid.Replace(Chain["bob"].ToString(), alice, StringComparison.Ordinal);
        var genesis = GenesisJson.Deserialize(twice);
        Assert.Equal($"genesis.allocations: {alice} appears twice", genesis.Validate());
        var ex = Assert.Throws<LedgerException>(() => LedgerState.FromGenesis(genesis));
        Assert.Equal(LedgerError.InvalidGenesis, ex.Code);
        Assert.Contains("genesis.allocations", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("params", "genesis.params: required")]
    [InlineData("allocations", "genesis.allocations: required")]
    [InlineData("params.incentives", "genesis.params.incentives: required")]
    public void A_missing_section_is_refused_naming_it(string path, string expected)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Valid)!.AsObject();
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(node, (o, p) => o[p]!.AsObject());
        Assert.True(parent.Remove(parts[^1]));
        var ex = Assert.Throws<JsonException>(() => GenesisJson.Deserialize(node.ToJsonString()));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_json_or_not_an_object_is_refused_as_a_whole()
    {
        Assert.StartsWith("genesis: not JSON", Assert.Throws<JsonException>(() => GenesisJson.Deserialize("{ chain_id: 1")).Message, StringComparison.Ordinal);
        Assert.StartsWith("genesis: the file holds null", Assert.Throws<JsonException>(() => GenesisJson.Deserialize("null")).Message, StringComparison.Ordinal);
    }
}
