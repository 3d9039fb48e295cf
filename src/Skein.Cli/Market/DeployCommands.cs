using System.CommandLine;
using System.Globalization;
using Skein.Cli.Ledger;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market;
using Skein.Market.Akash;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Spectre.Console;

namespace Skein.Cli.Market;

/// <summary>
/// `skein deploy TEMPLATE|FILE`: the one-command flow from a template to a running node on the local market (or on
/// Akash through Console's API), and `skein deploy list|status|logs|deposit|close|render` to look after it.
/// </summary>
public static partial class DeployCommands
{
    public static Command Build()
    {
        var command = new Command("deploy", "Deploy a template or an SDL file on the market: collect bids, lease the cheapest that fits, send the manifest, follow until it runs");
        var source = new Argument<string>("template") { Description = "skein-trainer, skein-trainer-gpu, skein-validator, skein-coordinator, a template folder, or an SDL file" };
        var set = new Option<string[]>("--set") { Description = "KEY=value settings of the template (see `skein deploy render --help`)", HelpName = "key=value" };
        var deposit = new Option<string>("--deposit") { Description = "Escrow deposit: tokens (\"5\") or denomination units (\"5000000uact\")", DefaultValueFactory = _ => "5" };
        var maxPrice = new Option<string?>("--max-price") { Description = "The most to pay per block for a group, in the denomination (e.g. 800); default: the SDL's ceiling" };
        var provider = new Option<string?>("--provider") { Description = "Lease from this provider only", HelpName = "address" };
        var autoTopUp = new Option<double?>("--auto-top-up") { Description = "Keep the escrow runway above this many hours (stays running; Ctrl-C stops topping up, not the deployment)", HelpName = "hours" };
        var bidTimeout = new Option<double>("--bid-timeout") { Description = "Seconds to wait for bids", DefaultValueFactory = _ => 30 };
        var akash = new Option<bool>("--akash-console") { Description = "Deploy on Akash Network through Console's API (key in $AKASH_CONSOLE_API_KEY) instead of the local market" };
        var akashUrl = new Option<string?>("--akash-url") { Description = "Console API base URL (default https://console-api.akash.network)", HelpName = "url" };
        var market = new MarketCliOptions();
        command.Add(source);
        foreach (var o in new Option[] { set, deposit, maxPrice, provider, autoTopUp, bidTimeout, akash, akashUrl })
        {
            command.Add(o);
        }
        market.AddTo(command);
        command.Add(DeployRenderCommand.Build());
        command.Add(List());
        command.Add(Status());
        command.Add(Logs());
        command.Add(Deposit());
        command.Add(Close());

        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var json = parse.GetValue(market.Ledger.Json);
            var sets = ParseSets(parse.GetValue(set) ?? []);
            var loaded = DeploySource.Load(parse.GetValue(source)!, sets);
            if (!loaded.Ok)
            {
                return SimulationSession.Fail(stderr, ExitCodes.InvalidOptions, loaded.Errors.Select(e => Scrub(e, sets)));
            }
            if (parse.GetValue(akash))
            {
                return await AkashAsync(parse, loaded.Yaml!, parse.GetValue(akashUrl), json, ct);
            }
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var flow = new DeployFlow(client, key, new ProviderClient(http, client.ChainId));
            var options = new DeployOptions
            {
                Deposit = Amount(parse.GetValue(deposit)!, rules, "--deposit"),
                MaxPricePerBlock = parse.GetValue(maxPrice) is { } mp ? MarketApiMapping.Units(rules, new ApiCoin(rules.Denom, mp), "--max-price") : null,
                Provider = parse.GetValue(provider) is { } p ? Address.Parse(p, "--provider") : null,
                BidTimeout = TimeSpan.FromSeconds(parse.GetValue(bidTimeout)),
            };
            var progress = new Progress<string>(line => stderr.WriteLine($"skein: {line}"));
            var outcome = await flow.RunAsync(loaded.Plan!, options, progress, ct);
            await ReportAsync(parse, outcome, rules, loaded.NodeAddresses, json);
            if (!outcome.Ok)
            {
                return outcome.NoBids.Count > 0 ? ExitCodes.NoBid : ExitCodes.RunFailed;
            }
            if (parse.GetValue(autoTopUp) is { } hours)
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"skein: keeping the runway of deployment {outcome.Deployment.Dseq} above {hours} h; Ctrl-C stops topping up (the deployment keeps running)"));
                using var signer = new MarketSigner(client, key);
                try
                {
                    await new AutoTopUp(client, signer, outcome.Deployment, hours).RunAsync(TimeSpan.FromSeconds(Math.Clamp(hours * 3600 / 20, 1, 300)),
                        amount => stderr.WriteLine($"skein: topped up {Tokens.Format(amount)} {Tokens.Symbol}"), null, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // stop topping up
                }
            }
            else if (outcome.RunwayHours is { } runway && runway < 24)
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"skein: warning: the escrow pays for {runway:0.##} more hours; the lease closes when it runs dry. Top up with `skein deploy deposit {outcome.Deployment.Dseq} AMOUNT`, or deploy with --auto-top-up HOURS"));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<int> AkashAsync(ParseResult parse, string yaml, string? url, bool json, CancellationToken ct)
    {
        var apiKey = AkashApiKey.FromEnvironment() ?? throw new ArgumentException("--akash-console: set AKASH_CONSOLE_API_KEY to your Console API key (never pass it on the command line)");
        var options = new AkashConsoleOptions(apiKey, url is null ? null : new Uri(url));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var result = await new AkashDeployFlow(new AkashConsoleClient(http, options)).DeployAsync(yaml, ct);
        var stdout = parse.InvocationConfiguration.Output;
        if (json)
        {
            await stdout.WriteLineAsync(JsonOutput.Serialize(new
            {
                network = "akash",
                outcome = result.Outcome.ToString().ToLowerInvariant(),
                dseq = result.Dseq,
                message = result.Message,
                leases = result.Leases.Select(l => new { lease = l.LeaseId.ToString(), denom = l.Price.Denom, price_per_block = l.Price.PerBlock, price_per_hour = l.Price.PerHour, gpu_models = l.GpuModels }),
            }));
        }
        else
        {
            await stdout.WriteLineAsync(result.Message);
            foreach (var l in result.Leases)
            {
                await stdout.WriteLineAsync($"  {l.LeaseId}: {l.Price}");
            }
        }
        return result.Outcome == AkashDeployOutcome.Leased ? ExitCodes.Ok : result.Outcome == AkashDeployOutcome.NoBids ? ExitCodes.NoBid : ExitCodes.RunFailed;
    }

    /// <summary>Tokens ("5") or denomination units ("5000000uact") as base units.</summary>
    public static UInt128 Amount(string text, MarketParams rules, string option) => MarketAmount.Parse(text, rules, option);

    private static Dictionary<string, string> ParseSets(IEnumerable<string> items)
    {
        var sets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--set: expected KEY=value, got '{item.Split('=')[0]}'");
            }
            if (!sets.TryAdd(item[..eq], item[(eq + 1)..]))
            {
                throw new ArgumentException($"--set: {item[..eq]} is set twice");
            }
        }
        return sets;
    }

    /// <summary>Errors never repeat the value of a secret setting.</summary>
    private static string Scrub(string error, IReadOnlyDictionary<string, string> sets)
    {
        foreach (var (key, value) in sets)
        {
            if (Skein.Market.Runtime.SecretFilter.IsSecretKey(key) && value.Length > 0)
            {
                error = error.Replace(value, "***", StringComparison.Ordinal);
            }
        }
        return error;
    }
}
