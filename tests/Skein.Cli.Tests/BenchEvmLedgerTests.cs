using System.Text.Json;

namespace Skein.Cli.Tests;

/// <summary>`skein bench ledger --backend evm`: gas per transaction type and per round, on an Anvil the command starts itself.</summary>
public sealed class BenchEvmLedgerTests
{
    [Fact]
    public async Task Bench_ledger_on_the_evm_reports_gas_per_transaction_type_and_per_round_as_one_json_object()
    {
        var (code, stdout, err) = await CliRun.Run("bench", "ledger", "--backend", "evm", "--sizes", "3x2", "--rounds", "1", "--json");

        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var run = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal((3, 2), (run.GetProperty("trainers").GetInt32(), run.GetProperty("validators").GetInt32()));
        var types = run.GetProperty("transactions").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!, t => t);
        foreach (var type in new[]
        {
            "Stake", "CreateTask", "JoinTask", "OpenRound", "SubmitUpdate", "CloseTraining", "CommitScores", "CloseCommits", "RevealScores", "FinalizeRound",
            "RegisterProvider", "SignProviderAttributes", "CreateDeployment", "DepositDeployment", "CloseDeployment", "CreateBid", "CloseBid", "CreateLease", "WithdrawLease", "CloseLease",
            "HandoverTask", "LeaveTask", "CancelTask",
        })
        {
            Assert.True(types.ContainsKey(type), $"no {type} in {stdout}");
            Assert.True(types[type].GetProperty("median_gas").GetUInt64() > 21_000, $"{type} cost less than a plain transfer");
        }
        Assert.Equal(3, types["SubmitUpdate"].GetProperty("count").GetInt32());
        // The liveness task: its phases closed by members after their deadlines (the chain's clock moved on), then cancelled.
        Assert.Equal(2, types["CloseTraining"].GetProperty("count").GetInt32());
        Assert.Equal(1, types["CancelTask"].GetProperty("count").GetInt32());
        var round = Assert.Single(run.GetProperty("rounds").EnumerateArray());
        Assert.Equal(3 + 2 + 2 + 4, round.GetProperty("transactions").GetInt32());
        Assert.Equal(types["FinalizeRound"].GetProperty("median_gas").GetUInt64(), round.GetProperty("settlement_gas").GetUInt64());
        Assert.True(run.GetProperty("settlement_fits_in_a_block").GetBoolean());
        Assert.True(run.GetProperty("round_usd").GetDecimal() > 0);
        // One rental: the sum of its twelve market transactions.
        var market = new[] { "RegisterProvider", "SignProviderAttributes", "CreateDeployment", "DepositDeployment", "CloseDeployment", "CreateBid", "CloseBid", "CreateLease", "WithdrawLease", "CloseLease" };
        Assert.Equal(12, market.Sum(t => types[t].GetProperty("count").GetInt32()));
        Assert.True((long)run.GetProperty("rental_gas").GetUInt64() > market.Sum(t => (long)types[t].GetProperty("median_gas").GetUInt64()) / 2);
    }

    [Fact]
    public async Task A_malformed_size_is_refused_naming_the_option()
    {
        var (code, stdout, err) = await CliRun.Run("bench", "ledger", "--backend", "evm", "--sizes", "ten", "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--sizes: 'ten' is not TRAINERSxVALIDATORS", err, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }
}
