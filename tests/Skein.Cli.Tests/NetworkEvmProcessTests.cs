using System.Text.Json;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Evm;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Cli.Tests;

/// <summary>The round protocol with the ledger on an EVM chain (Anvil): every party in its own process, the coordinator relaying everyone's signed transactions to Skein's contracts.</summary>
public sealed class NetworkEvmProcessTests() : SkeinProcesses("skein-evm-procs-", "evm-procs-")
{
    [Fact]
    public async Task A_coordinator_on_an_evm_chain_and_six_nodes_run_two_rounds_that_verify_against_the_chain_and_a_restart_attaches_to_the_same_contracts()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "t3", "evil"];
        string[] validators = ["v1", "v2"];
        await using var anvil = await AnvilNode.StartAsync(4243, cancellationToken: ct);
        // The coordinator pays the gas of every relayed transaction from its own address.
        using (var coordinatorKey = Key("coordinator"))
        {
            await anvil.FundAsync(coordinatorKey.Address.ToString(), AnvilNode.ThousandEther, ct);
        }
        var (genesisFile, spec) = await WriteChainAsync(4243, ["coordinator", .. trainers, .. validators], """
            { "name": "evm-procs", "model": "logreg", "rounds": 2, "trainers_per_round": 4, "validators_per_round": 2,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "100", "min_stake": "10", "reject_below": 0.2 }
            """, ct);
        var coordinatorData = Path.Combine(Dir, "coordinator");
        string[] chainArgs = ["--ledger", "evm", "--rpc", anvil.Rpc.ToString(), "--chain-id", "4243"];
        var coordinator = Start(["coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", coordinatorData, "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "4:2", "--training-seconds", "60", "--commit-seconds", "30", "--reveal-seconds", "30", .. chainArgs]);
        var (url, apiUrl) = await ReadAddressesAsync(coordinator, ct);
        foreach (var t in trainers)
        {
            StartTrainer(t, url, 200, (ulong)t.Length + (ulong)t[^1], "20", t == "evil" ? "sign-flip" : "honest");
        }
        foreach (var v in validators)
        {
            StartValidator(v, url, 100 + (ulong)v[^1], "50");
        }

        string contract;
        using (var api = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(apiUrl)))
        {
            var status = await api.GetStatusAsync(ct);
            Assert.Equal("evm", status.Ledger?.Backend);
            contract = status.Ledger!.Contract!;
            for (var i = 0; i < 1500 && !(await api.GetTaskAsync(1, ct)).Completed; i++)
            {
                await Task.Delay(100, ct);
            }
            Assert.True((await api.GetTaskAsync(1, ct)).Completed, "the task did not complete within 150 s");
        }

        // The facts come from the chain through the test's own connection; the blobs from the coordinator.
        var (code, stdout) = await RunToEndAsync(ct, "verify", "--coordinator", apiUrl, "--task", "1", "--rpc", anvil.Rpc.ToString(), "--contract", contract, "--json");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal("ok", doc.RootElement.GetProperty("verify").GetString());
            Assert.Equal("chain", doc.RootElement.GetProperty("source").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("rounds").GetArrayLength());
            Assert.All(doc.RootElement.GetProperty("rounds").EnumerateArray(), r => Assert.Equal(3, r.GetProperty("accepted").GetInt32()));
        }

        // The ledger's own commands read the same chain: a task with its rounds, their scores keyed by validator.
        (code, stdout) = await RunToEndAsync(ct, "task", "show", "1", "--rpc", anvil.Rpc.ToString(), "--contract", contract, "--json");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var rounds = doc.RootElement.GetProperty("rounds");
            Assert.Equal(2, rounds.GetArrayLength());
            Assert.Equal(2, rounds[1].GetProperty("scores").EnumerateObject().Count());
        }

        await using (var chain = await EvmLedger.ReadAsync(anvil.Rpc, contract, cancellationToken: ct))
        {
            var task = (await chain.GetTaskAsync(1, ct))!;
            Assert.True(task.Completed);
            Assert.Equal(Key("coordinator").Address, task.Creator);
            for (uint r = 1; r <= 2; r++)
            {
                var round = (await chain.GetRoundAsync(1, r, ct))!;
                Assert.Equal(4, round.Updates.Count);
                Assert.False(round.Outcomes.Single(o => o.Trainer == Key("evil").Address).Accepted);
                Assert.Equal(3, round.Outcomes.Count(o => o.Accepted));
                Assert.Equal(2, round.Revealed.Count);
                Assert.Contains(round.Movements, m => m.Account == Key("evil").Address && m.Kind == "trainer slash");
            }
            Assert.True(await chain.GetBalanceAsync(Key("t1").Address, ct) > Tokens.Whole(980));
            Assert.True((await chain.GetStakeAsync(Key("evil").Address, Role.Trainer, ct)).Self < Tokens.Whole(20));
            Assert.True((await chain.GetStatusAsync(ct)).SupplyConserved);
            var gas = await chain.GetRoundGasAsync(1, ct);
            Assert.Equal([1u, 2u], gas.Select(g => g.Round));
            // Open, 4 updates, close, 2 commits, close, 2 reveals, finalize.
            Assert.All(gas, g => Assert.Equal(12, g.Transactions));
            Assert.All(gas, g => Assert.InRange(g.Gas, 1_000_000UL, 30_000_000UL));
        }

        // The coordinator serves the market on the same contracts: a provider registered through its market API is on the chain.
        using (var market = await Skein.Market.Api.MarketApiClient.ConnectAsync(new Uri(apiUrl), cancellationToken: ct))
        {
            Assert.Equal(6_000UL, (await market.GetMarketStatusAsync(ct)).Params.BlockIntervalMs);
            using var provider = Key("v1");
            var register = new RegisterProvider
            {
                From = provider.Address, Nonce = await market.GetNonceAsync(provider.Address, ct), HostUri = "http://127.0.0.1:9/", Attributes = """{"region":"eu"}""",
                Capacity = """{"cpu_millis":4000,"memory_bytes":8589934592,"storage_bytes":0,"gpus":[]}""",
            };
            await market.SubmitAsync(provider.SignTransaction(register, 4243) with { ChainId = 4243 }, ct);
            await using var chain = await EvmLedger.ReadAsync(anvil.Rpc, contract, cancellationToken: ct);
            var onChain = (await chain.GetProviderAsync(provider.Address, ct))!;
            Assert.Equal(("http://127.0.0.1:9/", "eu", 4_000UL), (onChain.HostUri, onChain.Attributes["region"], onChain.Capacity.CpuMillis));
            Assert.Equal(provider.Address, Assert.Single(await market.ListProvidersAsync(ct)).Owner);
        }

        // Killed and restarted on the same folder, without the genesis: it attaches to the contracts it deployed.
        coordinator.Kill(entireProcessTree: true);
        await coordinator.WaitForExitAsync(ct);
        var again = Start(["coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", coordinatorData, .. chainArgs]);
        var (_, apiAgain) = await ReadAddressesAsync(again, ct);
        using (var api = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(apiAgain)))
        {
            Assert.Equal(contract, (await api.GetStatusAsync(ct)).Ledger?.Contract);
            Assert.True((await api.GetTaskAsync(1, ct)).Completed);
        }
    }

    [Fact]
    public async Task A_coordinator_on_an_evm_chain_killed_mid_round_restarts_and_finishes_the_round_keeping_every_update_on_the_chain()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] trainers = ["t1", "t2", "slow"];
        await using var anvil = await AnvilNode.StartAsync(4246, cancellationToken: ct);
        using (var coordinatorKey = Key("coordinator"))
        {
            await anvil.FundAsync(coordinatorKey.Address.ToString(), AnvilNode.ThousandEther, ct);
        }
        var (genesisFile, spec) = await WriteChainAsync(4246, ["coordinator", "v1", .. trainers], """
            { "name": "evm-restart", "model": "cnn", "rounds": 1, "trainers_per_round": 3, "validators_per_round": 1,
              "training": { "epochs": 2, "batch_size": 10, "lr": 0.05 }, "reward_pool": "30", "min_stake": "5", "reject_below": 0.05 }
            """, ct);
        string[] coordinatorArgs = ["coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "coordinator"), "--genesis", genesisFile,
            "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--task", spec, "--start-when-joined", "3:1", "--exit-when-done",
            "--training-seconds", "120", "--commit-seconds", "60", "--reveal-seconds", "60", "--ledger", "evm", "--rpc", anvil.Rpc.ToString(), "--chain-id", "4246"];
        var first = Start(coordinatorArgs);
        var (url, apiUrl) = await ReadAddressesAsync(first, ct);
        foreach (var t in trainers)
        {
            // The slow trainer has fifteen times the data, so the round is still open when the others have submitted.
            StartTrainer(t, url, t == "slow" ? 3_000 : 200, (ulong)t.Length, "5");
        }
        StartValidator("v1", url, 7, "5");

        string contract;
        using (var api = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(apiUrl)))
        {
            contract = (await api.GetStatusAsync(ct)).Ledger!.Contract!;
        }
        await using var chain = await EvmLedger.ReadAsync(anvil.Rpc, contract, cancellationToken: ct);
        // Bounded by the round's 120 s of training; on a loaded machine (the whole suite at once) the two small
        // trainers have taken over a minute to start, train and submit.
        for (var i = 0; i < 1100 && ((await chain.GetRoundAsync(1, 1, ct))?.Updates.Count ?? 0) < 2; i++)
        {
            await Task.Delay(100, ct);
        }
        var before = (await chain.GetRoundAsync(1, 1, ct))?.Updates.Count ?? 0;
        Assert.True(before == 2, $"{before} updates on the chain when the coordinator was to be killed");
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync(ct);

        // Same folder, same port: it attaches to the contracts it deployed (the genesis is not deployed again) and the round goes on.
        var second = Start(coordinatorArgs);
        Assert.StartsWith("listening ", await second.StandardOutput.ReadLineAsync(ct), StringComparison.Ordinal);
        await second.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(150), ct);
        Assert.Equal(0, second.ExitCode);

        var round = (await chain.GetRoundAsync(1, 1, ct))!;
        Assert.Equal(RoundPhase.Settled, round.Phase);
        Assert.Equal(3, round.Updates.Count);
        Assert.Equal(3, round.Outcomes.Count(o => o.Accepted));
        Assert.Single(await chain.ListTasksAsync(ct));
        Assert.True((await chain.GetStatusAsync(ct)).SupplyConserved);
    }

    [Fact]
    public async Task An_evm_coordinator_without_an_rpc_url_or_contracts_to_use_is_refused_naming_the_option()
    {
        var (code, _, err) = await CliRun.Run("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "c1"), "--ledger", "evm");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--rpc: required with --ledger evm", err, StringComparison.Ordinal);

        (code, _, err) = await CliRun.Run("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "c2"), "--ledger", "chain");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--ledger: must be embedded or evm", err, StringComparison.Ordinal);

        (code, _, err) = await CliRun.Run("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "c3"), "--rpc", "http://127.0.0.1:1/");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--rpc: only with --ledger evm", err, StringComparison.Ordinal);

        // In process: the key's password comes from a variable of this test's own.
        Environment.SetEnvironmentVariable("SKEIN_EVM_REFUSAL_PASSWORD", Password);
        await using var anvil = await AnvilNode.StartAsync(4244, cancellationToken: TestContext.Current.CancellationToken);
        (code, _, err) = await CliRun.Run("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "c4"), "--ledger", "evm", "--rpc", anvil.Rpc.ToString(),
            "--password-env", "SKEIN_EVM_REFUSAL_PASSWORD");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("no contracts to use", err, StringComparison.Ordinal);

        // An address with no code behind it is not a ledger.
        (code, _, err) = await CliRun.Run("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "c5"), "--ledger", "evm", "--rpc", anvil.Rpc.ToString(),
            "--contract", "0x1111111111111111111111111111111111111111", "--password-env", "SKEIN_EVM_REFUSAL_PASSWORD");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("contract: no contract at 0x1111111111111111111111111111111111111111", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Dir, "c5", "evm.json")));
    }

    [Fact]
    public async Task Verify_with_a_contract_but_no_rpc_is_refused_naming_the_option()
    {
        var (code, _, err) = await CliRun.Run("verify", "--coordinator", "http://127.0.0.1:1/", "--task", "1", "--contract", "0x1111111111111111111111111111111111111111");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--contract: only with --rpc", err, StringComparison.Ordinal);
    }
}
