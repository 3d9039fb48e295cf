using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Market.Api;
using Skein.Market.Runtime;

namespace Skein.Cli.Tests;

/// <summary>
/// The market with every party in its own process on loopback: a coordinator hosting the ledger and the market,
/// two providers, and a tenant using `skein deploy`; the rented trainer trains, survives its provider's SIGKILL,
/// and the escrow rules hold to the base unit.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MarketProcessTests() : SkeinProcesses("skein-market-procs-", "market-procs-")
{
    /// <summary>Rented workloads outlive their providers by design: kill what is left from the runtimes' own records.</summary>
    protected override void CleanUp()
    {
        foreach (var folder in Directory.Exists(Path.Combine(Dir, "providers")) ? Directory.GetDirectories(Path.Combine(Dir, "providers")) : [])
        {
            var runtimeFolder = Path.Combine(folder, "runtime");
            if (!Directory.Exists(runtimeFolder))
            {
                continue;
            }
            using var runtime = new ProcessRuntime(new ProcessRuntimeOptions { StateDirectory = runtimeFolder }, new ImageCatalog());
            foreach (var w in runtime.ListAsync(CancellationToken.None).GetAwaiter().GetResult())
            {
                runtime.RemoveAsync(w.Id, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
    }

    private async Task<(Process Process, Uri Uri)> StartProviderAsync(string name, decimal pricePerCore, CancellationToken ct)
    {
        var p = Start("provider", "--key", KeyFileOf(name), "--market", _api!, "--state-dir", Path.Combine(Dir, "providers", name),
            "--cpu", "4", "--memory", "8Gi", "--storage", "100Gi", "--price-cpu", pricePerCore.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--price-memory", "0", "--price-storage", "0", "--poll-ms", "200", "--withdraw-every", "3600");
        for (var i = 0; i < 5; i++)
        {
            var line = await p.StandardOutput.ReadLineAsync(ct) ?? throw new InvalidOperationException($"provider {name} exited before listening");
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                return (p, new Uri(line[10..]));
            }
        }
        throw new InvalidOperationException($"provider {name} printed no address");
    }

    private string? _api;

    private string WorkloadLog(string provider, string workload)
    {
        var folder = Path.Combine(Dir, "providers", provider, "runtime", "workloads", workload);
        return string.Join(" | ", Directory.Exists(folder)
            ? Directory.GetFiles(folder).Where(f => !f.EndsWith("spec.json", StringComparison.Ordinal)).Select(f => $"{Path.GetFileName(f)}: {string.Concat(File.ReadAllText(f).TakeLast(600))}")
            : ["no folder"]);
    }

    private async Task<bool> SupplyConservedAsync(CancellationToken ct)
    {
        using var api = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(_api!));
        return (await api.GetStatusAsync(ct)).Supply!.Conserved;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, int tries = 300)
    {
        for (var i = 0; i < tries; i++)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }

    [Fact]
    public async Task A_trainer_rented_from_the_cheaper_provider_trains_survives_its_provider_and_is_paid_by_the_block()
    {
        var ct = TestContext.Current.CancellationToken;
        var rules = MarketParams.Default with { BlockIntervalMs = 250, MinDeposit = 1_000_000_000_000UL * 1_000, BidDeposit = 1_000_000_000_000UL * 500 };
        var uact = rules.BaseUnitsPerDenomUnit;
        // Tenants rent with one key and their nodes train with another, so that task rewards never blur the escrow arithmetic.
        string[] parties = ["coordinator", "cheap", "dear", "trainer", "trainer-node", "spent", "spent-node", "validator"];
        var genesis = new Genesis(707, LedgerParams.Default with { Market = rules },
            parties.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var genesisFile = Path.Combine(Dir, "genesis.json");
        await File.WriteAllTextAsync(genesisFile, GenesisJson.Serialize(genesis), ct);
        var spec = Path.Combine(Dir, "task.json");
        await File.WriteAllTextAsync(spec, """
            { "name": "rented", "model": "logreg", "rounds": 400, "trainers_per_round": 2, "validators_per_round": 1,
              "training": { "epochs": 1, "batch_size": 20, "lr": 0.05 }, "reward_pool": "20", "min_stake": "5", "reject_below": 0.05 }
            """, ct);
        var coordinator = Start("coordinator", "--key-file", KeyFileOf("coordinator"), "--data-dir", Path.Combine(Dir, "coordinator"), "--genesis", genesisFile,
            "--task", spec, "--start-when-joined", "1:1", "--training-seconds", "30", "--commit-seconds", "30", "--reveal-seconds", "30");
        var grpc = (await coordinator.StandardOutput.ReadLineAsync(ct))![10..];
        _api = (await coordinator.StandardOutput.ReadLineAsync(ct))![4..];
        SyntheticImages.WriteIdxFiles(Path.Combine(Dir, "validator"), "heldout", 300, 5);
        Start("node", "--key-file", KeyFileOf("validator"), "--coordinator", grpc, "--data", Path.Combine(Dir, "validator"), "--validator-stake", "5");
        var (cheapProcess, cheapUri) = await StartProviderAsync("cheap", 100, ct);
        await StartProviderAsync("dear", 300, ct);

        // The tenant deploys a trainer from the template; its node's data stays on its side of the lease.
        SyntheticImages.WriteIdxFiles(Path.Combine(Dir, "trainer"), "train", 200, 11);
        string[] Deploy(string who, string deposit) =>
        [
            "deploy", "skein-trainer", "--market", _api!, "--key", KeyFileOf(who), "--deposit", deposit, "--bid-timeout", "20", "--json",
            "--set", $"SKEIN_COORDINATOR={grpc}", "--set", "SKEIN_TASK=1", "--set", "SKEIN_STAKE=5", "--set", $"SKEIN_KEY_JSON={File.ReadAllText(KeyFileOf(who + "-node"))}",
            "--set", $"SKEIN_KEY_PASSWORD={Password}", "--set", $"SKEIN_DATA={Path.Combine(Dir, who)}", "--set", "SKEIN_STATUS_PORT=0", "--set", "cpu=1", "--set", "memory=1Gi",
        ];
        var (code, stdout) = await RunToEndAsync(ct, Deploy("trainer", "1"));
        Assert.True(code == 0, stdout);
        Assert.DoesNotContain(Password, stdout, StringComparison.Ordinal);
        using var deployed = JsonDocument.Parse(stdout);
        var lease = deployed.RootElement.GetProperty("leases")[0];
        Assert.Equal(Key("cheap").Address.ToString(), lease.GetProperty("provider").GetString());
        Assert.Equal("100", lease.GetProperty("price_per_block").GetProperty("amount").GetString());
        Assert.Equal(Key("trainer-node").Address.ToString(), deployed.RootElement.GetProperty("nodes")[0].GetString());
        var leaseId = LeaseId.Parse(lease.GetProperty("lease").GetString()!);
        Assert.True(await SupplyConservedAsync(ct));

        using var market = await MarketApiClient.ConnectAsync(new Uri(_api), cancellationToken: ct);
        using var coordinatorApi = new Skein.Coordinator.Api.CoordinatorApiClient(new Uri(_api));
        Assert.True(await EventuallyAsync(async () => (await coordinatorApi.GetTaskAsync(1, ct)).SettledRounds >= 1, 600), "round 1 did not settle with the rented trainer");
        Assert.Contains(Key("trainer-node").Address.ToString(), (await coordinatorApi.GetRoundAsync(1, 1, ct)).Updates.Select(u => u.Trainer));

        // The provider is SIGKILLed; its workload runs on, and the restarted provider adopts it.
        using var http = new HttpClient();
        var providers = new Skein.Market.Deploy.ProviderClient(http, market.ChainId);
        var before = (await providers.LeaseStatusAsync(cheapUri, leaseId, ct)).Services.Single();
        Assert.Equal("running", before.State);
        cheapProcess.Kill(entireProcessTree: false);
        await cheapProcess.WaitForExitAsync(ct);
        var (_, restartedUri) = await StartProviderAsync("cheap", 100, ct);
        var after = (await providers.LeaseStatusAsync(restartedUri, leaseId, ct)).Services.Single();
        if (after.State != "running")
        {
            await Task.Delay(500, ct);
            var logs = string.Join("\n", Directory.GetFiles(Dir, "provider-*.log").Select(f => f + ": " + string.Concat(File.ReadAllText(f).TakeLast(3000))));
            Assert.Fail($"after the restart: {after}; workload log: {WorkloadLog("cheap", after.Workload)}\n{logs}");
        }
        Assert.Equal(before.Pid, after.Pid);
        Assert.Equal(restartedUri.ToString(), (await market.GetProviderAsync(Key("cheap").Address, ct))!.HostUri);
        // The adopted node goes on training: two more rounds settle with its updates.
        var settled = (await coordinatorApi.GetTaskAsync(1, ct)).SettledRounds;
        Assert.True(await EventuallyAsync(async () => (await coordinatorApi.GetTaskAsync(1, ct)).SettledRounds >= settled + 2, 600), "no round settled after the provider restart");
        Assert.Contains(Key("trainer-node").Address.ToString(), (await coordinatorApi.GetRoundAsync(1, settled + 2, ct)).Updates.Select(u => u.Trainer));
        Assert.True(await SupplyConservedAsync(ct));

        // A lease whose escrow runs out closes with insufficient_funds, its workload stops, and the provider got exactly the deposit.
        SyntheticImages.WriteIdxFiles(Path.Combine(Dir, "spent"), "train", 200, 12);
        (code, stdout) = await RunToEndAsync(ct, Deploy("spent", "4000uact"));
        Assert.True(code == 0, stdout);
        using var spentDoc = JsonDocument.Parse(stdout);
        var spentLease = LeaseId.Parse(spentDoc.RootElement.GetProperty("leases")[0].GetProperty("lease").GetString()!);
        Assert.True(await EventuallyAsync(async () =>
            (await market.ListLeasesAsync(new LeaseQuery(Owner: Key("spent").Address), ct)).Single().Status == LeaseStatus.InsufficientFunds), "the escrow did not run dry");
        var dry = (await market.ListLeasesAsync(new LeaseQuery(Owner: Key("spent").Address), ct)).Single();
        Assert.Equal("insufficient_funds", dry.CloseReason);
        Assert.Equal(4_000 * uact, dry.Paid);
        Assert.Equal(UInt128.Zero, (await market.GetDeploymentAsync(spentLease.Deployment, ct))!.Escrow.Balance);
        var spentProvider = (await market.GetProviderAsync(spentLease.Provider, ct))!;
        Assert.True(await EventuallyAsync(async () =>
            (await providers.LeaseStatusAsync(new Uri(spentProvider.HostUri), spentLease, ct)).Services.All(s => s.State == "exited")), "the dry lease's workload did not stop");

        // Closing pays the provider exactly rate x blocks and refunds the rest of the deposit.
        var tenantBefore = await market.GetBalanceAsync(Key("trainer").Address, ct);
        (code, stdout) = await RunToEndAsync(ct, "deploy", "close", leaseId.Dseq.ToString(System.Globalization.CultureInfo.InvariantCulture), "--market", _api, "--key", KeyFileOf("trainer"), "--json");
        Assert.True(code == 0, stdout);
        var closed = (await market.GetDeploymentAsync(leaseId.Deployment, ct))!;
        var paid = closed.Leases.Single();
        Assert.Equal(LeaseStatus.Closed, paid.Status);
        Assert.Equal(100 * uact * (paid.ClosedAt!.Value - paid.StartedAt), paid.Paid);
        Assert.True(paid.Paid <= Tokens.Whole(1));
        Assert.Equal(tenantBefore + (Tokens.Whole(1) - paid.Paid), await market.GetBalanceAsync(Key("trainer").Address, ct));
        using (var refund = JsonDocument.Parse(stdout))
        {
            Assert.Equal(new MarketParams("uact", uact, 250, 1, 0, 1).FromBaseUnits(Tokens.Whole(1) - paid.Paid), refund.RootElement.GetProperty("refunded").GetProperty("amount").GetString());
        }
        Assert.True(await EventuallyAsync(async () =>
            (await providers.LeaseStatusAsync(restartedUri, leaseId, ct)).Services.All(s => s.State == "exited")), "the closed lease's workload did not stop");
        Assert.True(await SupplyConservedAsync(ct));
    }
}
