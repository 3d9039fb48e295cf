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

    /// <summary>What a command about one of the key's deployments has once it started: the market, its rules, the key and the deployment's id.</summary>
    private sealed record Session(ParseResult Parse, MarketCliOptions Options, Skein.Market.Api.MarketApiClient Market, MarketParams Rules, Skein.Ledger.Crypto.LedgerKey Key, DeploymentId Id)
    {
        public async Task<DeploymentInfo> DeploymentAsync(CancellationToken ct) =>
            await Market.GetDeploymentAsync(Id, ct) ?? throw new ArgumentException($"dseq: {Key.Address} has no deployment {Id.Dseq}");

        public async Task<Dictionary<Address, Uri>> ProviderUrisAsync(CancellationToken ct) =>
            (await Market.ListProvidersAsync(ct)).ToDictionary(p => p.Owner, p => new Uri(p.HostUri));
    }

    /// <summary>A command about one deployment of the key (`status`, `logs`, `deposit`, `close`): the DSEQ argument, the market options, and a connected session.</summary>
    private static Command DeploymentCommand(string name, string description, Action<Command>? extra, Func<Session, CancellationToken, Task<int>> body)
    {
        var command = new Command(name, description);
        var dseq = Dseq();
        var market = new MarketCliOptions();
        command.Add(dseq);
        extra?.Invoke(command);
        market.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            using var client = await market.ConnectAsync(parse, ct);
            var rules = (await client.GetMarketStatusAsync(ct)).Params;
            using var key = market.Unlock(parse);
            return await body(new Session(parse, market, client, rules, key, new DeploymentId(key.Address, parse.GetValue(dseq))), ct);
        }));
        return command;
    }

    private static Command Status() => DeploymentCommand("status", "A deployment's escrow and leases, and each lease's services as its provider runs them", null, async (session, ct) =>
    {
        var d = await session.DeploymentAsync(ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var providers = new ProviderClient(http, session.Market.ChainId);
        var uris = await session.ProviderUrisAsync(ct);
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
        var row = Row(d, session.Rules);
        return await LedgerOptions.WriteAsync(session.Parse, session.Options.Ledger, new { deployment = row, services }, console =>
        {
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"deployment {row.Dseq}: {row.State}, escrow {row.Escrow.Amount} {row.Escrow.Denom}, {row.PricePerBlock.Amount} {row.PricePerBlock.Denom}/block, runway {(row.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-")}"));
            foreach (var l in row.Leases)
            {
                console.MarkupLine(Markup.Escape($"  lease {l.Lease}: {l.State}{(l.CloseReason is null ? "" : $" ({l.CloseReason})")}, paid {l.Paid.Amount} {l.Paid.Denom}"));
            }
            foreach (var view in services.OfType<Skein.Market.Provider.LeaseStatusView>())
            {
                foreach (var s in view.Services)
                {
                    console.MarkupLine(Markup.Escape($"    {s.Service}[{s.Instance}]: {s.State}{(s.Pid is { } pid ? $" (pid {pid})" : "")}{(s.Restarts > 0 ? $", {s.Restarts} restarts" : "")}"));
                }
                foreach (var e in view.Events)
                {
                    console.MarkupLine(Markup.Escape($"    {e.At:HH:mm:ss} {e.Kind}: {e.Message}"));
                }
            }
        });
    });

    private static Command Logs()
    {
        var followOption = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the services end or Ctrl-C" };
        return DeploymentCommand("logs", "The logs of a deployment's services, from their providers (only the owner may read them)", c => c.Add(followOption), (session, ct) => LogsAsync(session, session.Parse.GetValue(followOption), ct));
    }

    private static async Task<int> LogsAsync(Session session, bool follow, CancellationToken ct)
    {
        var d = await session.DeploymentAsync(ct);
        var uris = await session.ProviderUrisAsync(ct);
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var providers = new ProviderClient(http, session.Market.ChainId);
        var leases = d.Leases.Where(l => l.Status == LeaseStatus.Active || !follow).ToArray();
        try
        {
            await Task.WhenAll(leases.Select(async lease =>
            {
                await foreach (var line in providers.LogsAsync(uris[lease.Id.Provider], session.Key, lease.Id, follow, ct))
                {
                    await session.Parse.InvocationConfiguration.Output.WriteLineAsync(line);
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
    }

    private static Command Deposit()
    {
        var amount = new Argument<string>("amount") { Description = "Tokens (\"5\") or denomination units (\"5000000uact\")" };
        return DeploymentCommand("deposit", "Top up a deployment's escrow (tokens, or denomination units like 5000000uact)", c => c.Add(amount),
            (session, ct) => DepositAsync(session, session.Parse.GetValue(amount)!, ct));
    }

    private static async Task<int> DepositAsync(Session session, string amount, CancellationToken ct)
    {
        using var signer = new MarketSigner(session.Market, session.Key);
        var units = Amount(amount, session.Rules, "amount");
        await signer.SendAsync((f, n) => new DepositDeployment { From = f, Nonce = n, Owner = session.Id.Owner, Dseq = session.Id.Dseq, Amount = units }, ct);
        var row = Row(await session.DeploymentAsync(ct), session.Rules);
        return await LedgerOptions.WriteAsync(session.Parse, session.Options.Ledger,
            new { dseq = row.Dseq, deposited = MarketApiMapping.Coin(session.Rules, units), escrow = row.Escrow, runway_hours = row.RunwayHours },
            console => console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"deposited {Tokens.Format(units)} {Tokens.Symbol}; escrow {row.Escrow.Amount} {row.Escrow.Denom}, runway {(row.RunwayHours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) + " h" : "-")}")));
    }

    private static Command Close() => DeploymentCommand("close", "Close a deployment: its leases are paid to this block and stop, the rest of the escrow returns", null, async (session, ct) =>
    {
        using var signer = new MarketSigner(session.Market, session.Key);
        var before = await session.Market.GetBalanceAsync(session.Key.Address, ct);
        await signer.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = session.Id.Dseq }, ct);
        var refunded = await session.Market.GetBalanceAsync(session.Key.Address, ct) - before;
        return await LedgerOptions.WriteAsync(session.Parse, session.Options.Ledger, new { dseq = MarketApiMapping.Dseq(session.Id.Dseq), refunded = MarketApiMapping.Coin(session.Rules, refunded) },
            console => console.MarkupLine($"deployment {session.Id.Dseq} closed; {Tokens.Format(refunded)} {Tokens.Symbol} returned"));
    });
}
