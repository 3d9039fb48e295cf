using System.Text.Json;
using Skein.Ledger;
using Skein.Ledger.Evm;
using Skein.Ledger.State;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>The ledger's commands on an EVM chain: deploy the contracts from a genesis, then the same balance, transfer, stake and status commands with --rpc and --contract.</summary>
public sealed class LedgerEvmCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-ledger-evm-cli-").FullName;

    public LedgerEvmCliTests() => Environment.SetEnvironmentVariable("SKEIN_EVM_CLI_PASSWORD", "evm cli password");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] keys = args is ["ledger", "status", ..] or ["gov", "tally" or "show" or "list" or "params", ..] ? [] : ["--password-env", "SKEIN_EVM_CLI_PASSWORD"];
        var code = await SkeinCommand.RunAsync([.. args, "--data-dir", _dir, .. keys], output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonElement> Json(params string[] args)
    {
        var (code, stdout, err) = await Run([.. args, "--json"]);
        Assert.True(code == 0, $"{string.Join(' ', args)}: {err}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public async Task Deploy_the_contracts_then_balance_transfer_stake_and_status_work_against_the_chain_with_the_embedded_ledgers_commands()
    {
        var ct = TestContext.Current.CancellationToken;
        var alice = (await Json("keys", "new", "alice")).GetProperty("address").GetString()!;
        var bob = (await Json("keys", "new", "bob")).GetProperty("address").GetString()!;
        var genesis = new Genesis(4245, LedgerParams.Default, [new GenesisAllocation(Address.Parse(alice), Tokens.Whole(1_000)), new GenesisAllocation(Address.Parse(bob), Tokens.Whole(10))],
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var genesisFile = Path.Combine(_dir, "genesis.json");
        await File.WriteAllTextAsync(genesisFile, GenesisJson.Serialize(genesis), ct);
        await using var anvil = await AnvilNode.StartAsync(4245, cancellationToken: ct);
        var rpc = anvil.Rpc.ToString();

        // Bob has no ether: his address cannot pay for a deployment, and the error says how to fix it.
        var (code, _, err) = await Run("ledger", "deploy-contracts", "--rpc", rpc, "--genesis", genesisFile, "--key", "bob");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains($"--key: {bob} cannot pay the gas", err, StringComparison.OrdinalIgnoreCase);

        await anvil.FundAsync(alice, AnvilNode.ThousandEther, ct);
        var deployed = await Json("ledger", "deploy-contracts", "--rpc", rpc, "--genesis", genesisFile, "--key", "alice");
        Assert.Equal(4245UL, deployed.GetProperty("chain_id").GetUInt64());
        Assert.Equal("1010", deployed.GetProperty("supply").GetString());
        var contract = deployed.GetProperty("ledger").GetString()!;
        string[] chain = ["--rpc", rpc, "--contract", contract];

        Assert.Equal("1000000000000000000000", (await Json(["balance", "alice", .. chain])).GetProperty("balance").GetString());
        // Alice signs, and her own address relays: one key, one address.
        await Json(["transfer", "--key", "alice", "--to", "bob", "--amount", "10", .. chain]);
        await Json(["stake", "--key", "alice", "--role", "validator", "--amount", "100", .. chain]);
        var after = await Json(["balance", "alice", .. chain]);
        Assert.Equal("890000000000000000000", after.GetProperty("balance").GetString());
        Assert.Equal("100000000000000000000", after.GetProperty("validator_stake").GetProperty("self").GetString());
        Assert.Equal("20000000000000000000", (await Json(["balance", "bob", .. chain])).GetProperty("balance").GetString());
        Assert.StartsWith("0x", deployed.GetProperty("governance").GetString(), StringComparison.Ordinal);

        // Governance on the contracts, with the same commands: propose, vote, and the count so far.
        var proposed = await Json(["gov", "propose", "--key", "alice", "--kind", "parameter_change", "--parameter", "unbonding_blocks", "--value", "7", .. chain]);
        Assert.Equal(1UL, proposed.GetProperty("proposal_id").GetUInt64());
        await Json(["gov", "vote", "--key", "alice", "1", "yes", .. chain]);
        var tally = (await Json(["gov", "tally", "1", .. chain])).GetProperty("tally");
        Assert.Equal("100000000000000000000", tally.GetProperty("yes").GetString());
        Assert.Equal("100000000000000000000", tally.GetProperty("total_power").GetString());
        var shown = (await Json(["gov", "show", "1", .. chain])).GetProperty("proposal");
        Assert.Equal("voting", shown.GetProperty("status").GetString());
        Assert.Equal("880000000000000000000", (await Json(["balance", "alice", .. chain])).GetProperty("balance").GetString()); // the 10-token deposit is locked
        (code, _, err) = await Run(["gov", "propose", "--key", "alice", "--kind", "parameter_change", "--parameter", "incentives.trainer_slash_bps", "--value", "20000", .. chain]);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("incentives.trainer_slash_bps: must be in [0, 10000], got 20000", err, StringComparison.Ordinal);

        var status = await Json(["ledger", "status", .. chain]);
        Assert.Equal(4245UL, status.GetProperty("chain_id").GetUInt64());

        // A refusal reads as on the embedded ledger: code, field and rule.
        (code, _, err) = await Run(["transfer", "--key", "alice", "--to", "bob", "--amount", "5000", .. chain]);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("InsufficientBalance: ", err, StringComparison.Ordinal);

        (code, _, err) = await Run("balance", "alice", "--rpc", rpc);
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--contract: required with --rpc", err, StringComparison.Ordinal);
        (code, _, err) = await Run("balance", "alice", "--rpc", rpc, "--contract", "0x3333333333333333333333333333333333333333");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--contract: no contract at 0x3333333333333333333333333333333333333333", err, StringComparison.Ordinal);
    }
}
