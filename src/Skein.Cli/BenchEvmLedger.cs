using System.CommandLine;
using System.Globalization;
using Skein.Ledger.Evm;
using Spectre.Console;

namespace Skein.Cli;

/// <summary>`skein bench ledger --backend evm`: gas per transaction type and per round on SkeinLedger.sol, on Anvil, for each network size asked.</summary>
public static class BenchEvmLedger
{
    /// <summary>The EVM run's options, added to `bench ledger`.</summary>
    public sealed record EvmOptions(Option<string> Sizes, Option<int> Rounds, Option<decimal> GasPrice, Option<decimal> EthUsd)
    {
        public Option[] All => [Sizes, Rounds, GasPrice, EthUsd];
    }

    public static EvmOptions Options() => new(
        new Option<string>("--sizes") { Description = "With --backend evm: network sizes as TRAINERSxVALIDATORS, comma-separated", DefaultValueFactory = _ => "10x3,100x10" },
        new Option<int>("--rounds") { Description = "With --backend evm: rounds per size", DefaultValueFactory = _ => 2 },
        new Option<decimal>("--gas-price-gwei") { Description = "With --backend evm: the L2 gas price the dollar figures use", DefaultValueFactory = _ => 0.01m },
        new Option<decimal>("--eth-usd") { Description = "With --backend evm: dollars per ether for the dollar figures", DefaultValueFactory = _ => 3_000m });

    public static async Task<int> RunAsync(ParseResult parse, EvmOptions o, bool json, CancellationToken ct)
    {
        var stderr = parse.InvocationConfiguration.Error;
        var sizes = new List<(int Trainers, int Validators)>();
        foreach (var part in parse.GetValue(o.Sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var xy = part.Split('x');
            if (xy.Length != 2 || !int.TryParse(xy[0], CultureInfo.InvariantCulture, out var t) || !int.TryParse(xy[1], CultureInfo.InvariantCulture, out var v))
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [$"--sizes: '{part}' is not TRAINERSxVALIDATORS (e.g. 10x3)"]);
            }
            sizes.Add((t, v));
        }
        var runs = new List<EvmGasResult>();
        var options = sizes.Select(s => new EvmGasOptions
        {
            Trainers = s.Trainers, Validators = s.Validators, Rounds = parse.GetValue(o.Rounds), GasPriceGwei = parse.GetValue(o.GasPrice), EthUsd = parse.GetValue(o.EthUsd),
        }).ToArray();
        if (options.Select(x => x.Validate()).FirstOrDefault(e => e is not null) is { } invalid)
        {
            return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, [invalid]);
        }
        await using var anvil = await AnvilNode.StartAsync(31337, line => stderr.WriteLine(line), ct);
        await stderr.WriteLineAsync($"anvil {AnvilNode.Version} at {anvil.Rpc}");
        foreach (var option in options)
        {
            await stderr.WriteLineAsync($"{option.Trainers} trainers x {option.Validators} validators, {option.Rounds} rounds ...");
            runs.Add(await EvmGasBenchmark.RunAsync(anvil.Rpc, anvil.DevKey, anvil.ChainId, option, line => stderr.WriteLine("  " + line),
                (by, token) => anvil.IncreaseTimeAsync((long)Math.Ceiling(by.TotalSeconds), token), ct));
        }
        var result = new
        {
            backend = "evm",
            chain = $"anvil {AnvilNode.Version}",
            compiler = ContractArtifact.Load("SkeinLedger").Compiler,
            gas_price_gwei = parse.GetValue(o.GasPrice),
            eth_usd = parse.GetValue(o.EthUsd),
            runs = runs.Select(r => new
            {
                trainers = r.Trainers,
                validators = r.Validators,
                transactions = r.Transactions.Select(t => new { type = t.Type, count = t.Count, median_gas = t.MedianGas, max_gas = t.MaxGas, median_ms = t.MedianMs }),
                rounds = r.Rounds.Select(x => new { round = x.Round, transactions = x.Transactions, gas = x.TotalGas, settlement_gas = x.FinalizeGas, seconds = x.Seconds }),
                round_gas_median = r.RoundGasMedian,
                settlement_gas_max = r.FinalizeGasMax,
                block_gas_limit = r.BlockGasLimit,
                settlement_fits_in_a_block = r.SettlementFitsInABlock,
                round_usd = r.RoundUsd,
                rental_gas = r.RentalGas,
                rental_usd = r.RentalUsd,
                tally_gas = r.TallyGas,
                tally_voters = r.TallyVoters,
            }),
        };
        if (json)
        {
            await parse.InvocationConfiguration.Output.WriteLineAsync(JsonOutput.Serialize(result));
            return ExitCodes.Ok;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
        foreach (var r in runs)
        {
            var table = new Table().Border(TableBorder.Rounded).Title(string.Create(CultureInfo.InvariantCulture,
                $"[bold]{r.Trainers} trainers x {r.Validators} validators[/]: {r.RoundGasMedian:N0} gas a round, ${r.RoundUsd} at {r.GasPriceGwei} gwei and ${r.EthUsd}/ETH"));
            table.AddColumns("transaction", "count", "median gas", "max gas", "median ms");
            foreach (var t in r.Transactions)
            {
                table.AddRow(t.Type, t.Count.ToString(CultureInfo.InvariantCulture), t.MedianGas.ToString("N0", CultureInfo.InvariantCulture),
                    t.MaxGas.ToString("N0", CultureInfo.InvariantCulture), t.MedianMs.ToString("0.0", CultureInfo.InvariantCulture));
            }
            table.Caption(string.Create(CultureInfo.InvariantCulture,
                $"settlement at most {r.FinalizeGasMax:N0} gas; block gas limit {r.BlockGasLimit:N0}: {(r.SettlementFitsInABlock ? "fits" : "DOES NOT FIT")}; one rental on the market {r.RentalGas:N0} gas (${r.RentalUsd}); a proposal's tally with {r.TallyVoters} voters {r.TallyGas:N0} gas"));
            console.Write(table);
        }
        return ExitCodes.Ok;
    }
}
