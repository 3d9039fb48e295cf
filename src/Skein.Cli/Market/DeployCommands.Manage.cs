using System.CommandLine;
using System.Globalization;
using Skein.Cli.Ledger;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Spectre.Console;

namespace Skein.Cli.Market;

/// <summary>The deploy report, and `skein deploy list|status|logs|deposit|close`.</summary>
public static partial class DeployCommands
{
    private static readonly string[] LeaseColumns = ["group", "provider", "price/block", "services", "state"];

    private static readonly string[] DeploymentColumns = ["dseq", "state", "escrow", "price/block", "runway", "leases"];

    private static async Task ReportAsync(ParseResult parse, DeployOutcome o, MarketParams rules, IReadOnlyList<string> nodes, bool json)
    {
        var stdout = parse.InvocationConfiguration.Output;
        var perBlock = MarketApiMapping.Coin(rules, o.PricePerBlock);
        if (json)
        {
            await stdout.WriteLineAsync(JsonOutput.Serialize(new
            {
                network = "local",
                owner = o.Deployment.Owner.ToString(),
                dseq = MarketApiMapping.Dseq(o.Deployment.Dseq),
                ok = o.Ok,
                leases = o.Leases.Select(l => new
                {
                    lease = l.Lease.ToString(),
                    group = l.Group,
                    provider = l.Lease.Provider.ToString(),
                    provider_uri = l.ProviderUri.ToString(),
                    price_per_block = MarketApiMapping.Coin(rules, l.PricePerBlock),
                    up = l.Up,
                    services = l.Services,
                }),
                price_per_block = perBlock,
                price_per_hour = new ApiCoin(rules.Denom, o.PricePerHour.ToString("0.######", CultureInfo.InvariantCulture)),
                runway_hours = o.RunwayHours,
                nodes,
                no_bids = o.NoBids.Select(r => new
                {
                    group = r.Group,
                    summary = r.Summary,
                    providers = r.Providers.Select(v => new
                    {
                        provider = v.Provider.ToString(),
                        kind = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(v.Kind.ToString()),
                        reason = v.Reason,
                        price = v.Price is { } p ? MarketApiMapping.Coin(rules, p) : null,
                    }),
                }),
                error = o.Error,
                seconds = new { created = o.CreatedSeconds, leased = o.LeasedSeconds, up = o.UpSeconds },
            }));
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        if (o.NoBids.Count > 0)
        {
            foreach (var r in o.NoBids)
            {
                console.MarkupLine($"[red]no bid[/] for group [bold]{Markup.Escape(r.Group)}[/]: {Markup.Escape(r.Summary)}");
                foreach (var v in r.Providers)
                {
                    console.MarkupLine($"  {Markup.Escape(v.Provider.ToString())}: {Markup.Escape(v.Reason)}");
                }
            }
            console.MarkupLine("The deployment was closed and its deposit returned.");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).Title($"Deployment {o.Deployment.Dseq}");
        foreach (var column in LeaseColumns)
        {
            table.AddColumn(column);
        }
        foreach (var l in o.Leases)
        {
            table.AddRow(Markup.Escape(l.Group), Markup.Escape(l.Lease.Provider.ToString()), $"{rules.FromBaseUnits(l.PricePerBlock)} {rules.Denom}",
                l.Services.Count.ToString(CultureInfo.InvariantCulture), l.Up ? "[green]running[/]" : "[yellow]not up[/]");
        }
        console.Write(table);
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"price {perBlock.Amount} {rules.Denom}/block = {o.PricePerHour:0.##} {rules.Denom}/hour; runway {(o.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-")}"));
        foreach (var node in nodes)
        {
            console.MarkupLine($"node {Markup.Escape(node)}");
        }
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[grey]created {o.CreatedSeconds:0.0} s, leased {o.LeasedSeconds:0.0} s, up {o.UpSeconds:0.0} s[/]"));
    }

    private static Command List()
    {
        var command = new Command("list", "Your deployments on the market: state, escrow, price and runway");
        var all = new Option<bool>("--all") { Description = "Closed ones too" };
        var market = new MarketCliOptions();
        command.Add(all);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            var list = await client.ListDeploymentsAsync(new DeploymentQuery(key.Address, ActiveOnly: !parse.GetValue(all)), ct);
            var rows = list.Select(d => Row(d, rules)).ToArray();
            return await LedgerOptions.WriteAsync(parse, market.Ledger, new { deployments = rows }, console =>
            {
                var table = new Table().Border(TableBorder.Rounded);
                foreach (var column in DeploymentColumns)
                {
                    table.AddColumn(column);
                }
                foreach (var r in rows)
                {
                    table.AddRow(r.Dseq, r.State, $"{r.Escrow.Amount} {r.Escrow.Denom}", $"{r.PricePerBlock.Amount} {r.PricePerBlock.Denom}",
                        r.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-", r.Leases.Count.ToString(CultureInfo.InvariantCulture));
                }
                console.Write(table);
            });
        }));
        return command;
    }

    /// <summary>A deployment as `list` and `status` show it.</summary>
    public sealed record DeploymentRow(string Dseq, string State, ApiCoin Escrow, ApiCoin PricePerBlock, double? RunwayHours, IReadOnlyList<LeaseRow> Leases);

    /// <summary>A lease as `list` and `status` show it.</summary>
    public sealed record LeaseRow(string Lease, string Group, string Provider, string State, ApiCoin PricePerBlock, ApiCoin Paid, string? CloseReason);

    private static DeploymentRow Row(DeploymentInfo d, MarketParams rules) => new(
        MarketApiMapping.Dseq(d.Id.Dseq),
        MarketApiMapping.State(d.Status),
        MarketApiMapping.Coin(rules, d.Escrow.Balance),
        MarketApiMapping.Coin(rules, d.Escrow.RatePerBlock),
        d.Escrow.RunwayBlocks is { } b ? b * (double)rules.BlockIntervalMs / 3_600_000 : null,
        d.Leases.Select(l => new LeaseRow(l.Id.ToString(), l.Group, l.Id.Provider.ToString(), MarketApiMapping.State(l.Status), MarketApiMapping.Coin(rules, l.Price),
            MarketApiMapping.Coin(rules, l.Paid), l.CloseReason)).ToArray());

    private static Argument<ulong> Dseq() => new("dseq") { Description = "The deployment's sequence number (see `skein deploy list`)" };

    private static Command Status()
    {
        var command = new Command("status", "A deployment's escrow and leases, and each lease's services as its provider runs them");
        var dseq = Dseq();
        var market = new MarketCliOptions();
        command.Add(dseq);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            var d = await client.GetDeploymentAsync(new DeploymentId(key.Address, parse.GetValue(dseq)), ct)
                ?? throw new ArgumentException($"dseq: {key.Address} has no deployment {parse.GetValue(dseq)}");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var providers = new ProviderClient(http, client.ChainId);
            var uris = (await client.ListProvidersAsync(ct)).ToDictionary(p => p.Owner, p => new Uri(p.HostUri));
            var services = new List<object>();
            foreach (var lease in d.Leases.Where(l => l.Status == LeaseStatus.Active))
            {
                try
                {
                    services.Add(await providers.LeaseStatusAsync(uris[lease.Id.Provider], lease.Id, ct));
                }
                catch (Exception ex) when (ex is HttpRequestException or ProviderRefusedException or TaskCanceledException)
                {
                    services.Add(new { lease = lease.Id.ToString(), error = $"provider did not answer: {ex.Message}" });
                }
            }
            var row = Row(d, rules);
            return await LedgerOptions.WriteAsync(parse, market.Ledger, new { deployment = row, services }, console =>
            {
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"deployment {row.Dseq}: {row.State}, escrow {row.Escrow.Amount} {row.Escrow.Denom}, {row.PricePerBlock.Amount} {row.PricePerBlock.Denom}/block, runway {(row.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-")}"));
                foreach (var l in row.Leases)
                {
                    console.MarkupLine(Markup.Escape($"  lease {l.Lease}: {l.State}{(l.CloseReason is null ? "" : $" ({l.CloseReason})")}, paid {l.Paid.Amount} {l.Paid.Denom}"));
                }
                foreach (var s in services.OfType<Skein.Market.Provider.LeaseStatusView>().SelectMany(v => v.Services))
                {
                    console.MarkupLine(Markup.Escape($"    {s.Service}[{s.Instance}]: {s.State}{(s.Pid is { } pid ? $" (pid {pid})" : "")}{(s.Restarts > 0 ? $", {s.Restarts} restarts" : "")}"));
                }
            });
        }));
        return command;
    }

    private static Command Logs()
    {
        var command = new Command("logs", "The logs of a deployment's services, from their providers (only the owner may read them)");
        var dseq = Dseq();
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the services end or Ctrl-C" };
        var market = new MarketCliOptions();
        command.Add(dseq);
        command.Add(follow);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            using var key = market.Unlock(parse);
            var d = await client.GetDeploymentAsync(new DeploymentId(key.Address, parse.GetValue(dseq)), ct)
                ?? throw new ArgumentException($"dseq: {key.Address} has no deployment {parse.GetValue(dseq)}");
            var uris = (await client.ListProvidersAsync(ct)).ToDictionary(p => p.Owner, p => new Uri(p.HostUri));
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var providers = new ProviderClient(http, client.ChainId);
            var leases = d.Leases.Where(l => l.Status == LeaseStatus.Active || !parse.GetValue(follow)).ToArray();
            try
            {
                await Task.WhenAll(leases.Select(async lease =>
                {
                    await foreach (var line in providers.LogsAsync(uris[lease.Id.Provider], key, lease.Id, parse.GetValue(follow), ct))
                    {
                        await parse.InvocationConfiguration.Output.WriteLineAsync(line);
                    }
                }));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C ends the follow
            }
            catch (ProviderRefusedException ex)
            {
                throw new ArgumentException($"logs: the provider refused: {ex.Message}", ex);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Deposit()
    {
        var command = new Command("deposit", "Top up a deployment's escrow (tokens, or denomination units like 5000000uact)");
        var dseq = Dseq();
        var amount = new Argument<string>("amount") { Description = "Tokens (\"5\") or denomination units (\"5000000uact\")" };
        var market = new MarketCliOptions();
        command.Add(dseq);
        command.Add(amount);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            using var signer = new MarketSigner(client, key);
            var units = Amount(parse.GetValue(amount)!, rules, "amount");
            var id = new DeploymentId(key.Address, parse.GetValue(dseq));
            await signer.SendAsync((f, n) => new DepositDeployment { From = f, Nonce = n, Owner = id.Owner, Dseq = id.Dseq, Amount = units }, ct);
            var row = Row((await client.GetDeploymentAsync(id, ct))!, rules);
            return await LedgerOptions.WriteAsync(parse, market.Ledger, new { dseq = row.Dseq, deposited = MarketApiMapping.Coin(rules, units), escrow = row.Escrow, runway_hours = row.RunwayHours },
                console => console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"deposited {Tokens.Format(units)} {Tokens.Symbol}; escrow {row.Escrow.Amount} {row.Escrow.Denom}, runway {(row.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-")}")));
        }));
        return command;
    }

    private static Command Close()
    {
        var command = new Command("close", "Close a deployment: its leases are paid to this block and stop, the rest of the escrow returns");
        var dseq = Dseq();
        var market = new MarketCliOptions();
        command.Add(dseq);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            using var signer = new MarketSigner(client, key);
            var before = await client.GetBalanceAsync(key.Address, ct);
            await signer.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = parse.GetValue(dseq) }, ct);
            var refunded = await client.GetBalanceAsync(key.Address, ct) - before;
            return await LedgerOptions.WriteAsync(parse, market.Ledger, new { dseq = MarketApiMapping.Dseq(parse.GetValue(dseq)), refunded = MarketApiMapping.Coin(rules, refunded) },
                console => console.MarkupLine($"deployment {parse.GetValue(dseq)} closed; {Tokens.Format(refunded)} {Tokens.Symbol} returned"));
        }));
        return command;
    }
}
