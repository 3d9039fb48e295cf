using System.Text.Json;
using Skein.Ledger;
using Skein.Ledger.Evm;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>`skein chain up`: a local chain with the ledger's contracts deployed from a genesis file, usable at once.</summary>
public sealed class ChainCommandTests() : SkeinProcesses("skein-chain-up-", "chain-up-")
{
    [Fact]
    public async Task Chain_up_deploys_the_contracts_with_the_genesis_allocations_and_prints_where_they_are()
    {
        var ct = TestContext.Current.CancellationToken;
        var genesis = new Genesis(4242, LedgerParams.Default, [new GenesisAllocation(Key("alice").Address, Tokens.Whole(500))], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var file = Path.Combine(Dir, "genesis.json");
        await File.WriteAllTextAsync(file, GenesisJson.Serialize(genesis), ct);

        var chain = Start("chain", "up", "--genesis", file, "--json");
        using var json = JsonDocument.Parse((await chain.StandardOutput.ReadLineAsync(ct))!);
        var root = json.RootElement;
        Assert.Equal(4242UL, root.GetProperty("chain_id").GetUInt64());
        var rpc = new Uri(root.GetProperty("rpc").GetString()!);
        Assert.Equal("127.0.0.1", rpc.Host);

        // Anyone can attach to what it deployed: the balances are the genesis'.
        var relayKey = "0x" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("unfunded reader"u8));
        await using var ledger = await EvmLedger.AttachAsync(rpc, relayKey, root.GetProperty("ledger").GetString()!, ct);
        Assert.Equal(root.GetProperty("tasks").GetString()!, ledger.TasksAddress, ignoreCase: true);
        Assert.Equal(Tokens.Whole(500), await ledger.GetBalanceAsync(Key("alice").Address, ct));
        Assert.Equal(Tokens.Whole(500), (await ledger.GetStatusAsync(ct)).GenesisSupply);
        Assert.False(chain.HasExited);
    }

    [Fact]
    public async Task A_missing_genesis_file_is_refused_naming_the_option()
    {
        var (code, stdout, err) = await CliRun.Run("chain", "up", "--genesis", Path.Combine(Dir, "nope.json"), "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--genesis:", err, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }
}
