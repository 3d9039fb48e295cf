using System.CommandLine;
using System.Text.Json;
using Skein.Ledger.Evm;
using Skein.Ledger.Storage;

namespace Skein.Cli;

/// <summary>`skein chain up`: a local EVM chain (Anvil from npm) for the EVM ledger, with Skein's contracts deployed on it when a genesis is given.</summary>
public static class ChainCommand
{
    // The command keeps running after it prints, so its object is one line: a script reads one line and goes on.
    private static readonly JsonSerializerOptions OneLine = new(Skein.Cli.Ledger.CliJson.Options) { WriteIndented = false };

    public static Command Build()
    {
        var chain = new Command("chain", "A local EVM chain for the ledger's contracts (Anvil)");
        var up = new Command("up", "Start Anvil on 127.0.0.1, deploy SkeinLedger, SkeinTasks and SkeinMarket with a genesis, and keep them up until Ctrl+C");
        var genesisFile = new Option<string?>("--genesis") { Description = "Genesis file (skein ledger init writes one): its chain id, allocations and parameters", HelpName = "file" };
        var chainId = new Option<ulong>("--chain-id") { Description = "Chain id when no genesis is given", DefaultValueFactory = _ => 31337 };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var fund = new Option<string[]>("--fund") { Description = "Give this address 1000 ETH for gas (repeatable): a coordinator relays with its own key", HelpName = "address" };
        var blockTime = new Option<int>("--block-time") { Description = "Seconds between blocks when nobody transacts (transactions are still mined at once; 0: only then), so that market time moves on", DefaultValueFactory = _ => 6 };
        foreach (var o in new Option[] { genesisFile, chainId, fund, blockTime, json })
        {
            up.Add(o);
        }
        up.SetAction(async (parse, ct) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            Skein.Ledger.State.Genesis? genesis = null;
            if (parse.GetValue(genesisFile) is { } file)
            {
                if (!File.Exists(file))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--genesis: {file} does not exist"]);
                }
                try
                {
                    genesis = GenesisJson.Deserialize(await File.ReadAllTextAsync(file, ct));
                }
                catch (JsonException ex)
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--genesis: {file} is not a genesis file ({ex.Message})"]);
                }
                if (genesis.Validate() is { } invalid)
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--genesis: {invalid}"]);
                }
            }
            var id = genesis?.ChainId ?? parse.GetValue(chainId);
            if (id == 0)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, ["--chain-id: must be > 0"]);
            }
            var funded = parse.GetValue(fund) ?? [];
            foreach (var address in funded)
            {
                if (!Skein.Ledger.Address.TryParse(address, out _, out var why))
                {
                    return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--fund: {why}"]);
                }
            }
            if (parse.GetValue(blockTime) is < 0 or > 3_600)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, ["--block-time: must be in [0, 3600] seconds"]);
            }
            await using var anvil = await AnvilNode.StartAsync(id, 0, null, parse.GetValue(blockTime), line => stderr.WriteLine(line), ct);
            foreach (var address in funded)
            {
                await anvil.FundAsync(address, AnvilNode.ThousandEther, ct);
            }
            EvmLedger? ledger = null;
            try
            {
                if (genesis is not null)
                {
                    ledger = await EvmLedger.DeployAsync(anvil.Rpc, anvil.DevKey, genesis, ct);
                }
                var relayer = new Nethereum.Web3.Accounts.Account(anvil.DevKey).Address;
                if (parse.GetValue(json))
                {
                    await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                    {
                        rpc = anvil.Rpc.ToString(),
                        chain_id = id,
                        anvil = AnvilNode.Version,
                        relayer,
                        ledger = ledger?.ContractAddress,
                        tasks = ledger?.TasksAddress,
                        market = ledger?.MarketAddress,
                        governance = ledger?.GovernanceAddress,
                        funded,
                    }, OneLine));
                }
                else
                {
                    await stdout.WriteLineAsync($"rpc {anvil.Rpc}");
                    await stdout.WriteLineAsync($"chain id {id}; relayer {relayer} (Anvil's first development account)");
                    if (ledger is not null)
                    {
                        await stdout.WriteLineAsync($"SkeinLedger {ledger.ContractAddress}");
                        await stdout.WriteLineAsync($"SkeinTasks {ledger.TasksAddress}");
                        await stdout.WriteLineAsync($"SkeinMarket {ledger.MarketAddress}");
                        await stdout.WriteLineAsync($"SkeinGovernance {ledger.GovernanceAddress}");
                    }
                    await stderr.WriteLineAsync("the chain stays up until Ctrl+C (it keeps nothing when it stops)");
                }
                await stdout.FlushAsync(ct);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
                return ExitCodes.Ok;
            }
            finally
            {
                if (ledger is not null)
                {
                    await ledger.DisposeAsync();
                }
            }
        });
        chain.Add(up);
        return chain;
    }
}
