using System.CommandLine;
using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>`skein ledger init|status|blocks|tx|verify`.</summary>
public static class LedgerCommands
{
    public static Command Build()
    {
        var ledger = new Command("ledger", "The ledger: create it (embedded, or as contracts on an EVM chain), inspect its blocks and transactions, verify it from genesis");
        ledger.Add(Init());
        ledger.Add(DeployContracts());
        ledger.Add(Status());
        ledger.Add(Blocks());
        ledger.Add(Tx());
        ledger.Add(Verify());
        ledger.Add(Stress());
        return ledger;
    }

    private static Command Init()
    {
        var command = new Command("init", "Create a chain: its id, its rules (defaults: docs/incentives.md) and its genesis allocations");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true, evm: false);
        var chainId = new Option<ulong>("--chain-id") { Description = "Chain id (part of every signature)", DefaultValueFactory = _ => 1337 };
        var fund = new Option<string[]>("--fund") { Description = "Genesis allocation ACCOUNT=TOKENS, account being an address or a key name (repeatable)", HelpName = "account=tokens" };
        command.Add(chainId);
        command.Add(fund);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var allocations = new List<GenesisAllocation>();
            foreach (var f in parse.GetValue(fund) ?? [])
            {
                var eq = f.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ArgumentException($"--fund: expected account=tokens, got '{f}'");
                }
                allocations.Add(new GenesisAllocation(o.ResolveAccount(parse, f[..eq], "--fund"), Tokens.Parse(f[(eq + 1)..], "--fund")));
            }
            var path = o.LedgerPath(parse);
            if (File.Exists(path))
            {
                throw new ArgumentException($"--ledger: {path} already holds a chain; remove it or choose another file");
            }
            var genesis = new Genesis(parse.GetValue(chainId), LedgerParams.Default, allocations, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (genesis.Validate() is { } error)
            {
                throw new ArgumentException(error);
            }
            await using var ledger = await EmbeddedLedger.OpenAsync(path, genesis, cancellationToken: ct);
            var status = await ledger.GetStatusAsync(ct);
            return await LedgerOptions.WriteAsync(parse, o, new { path, chain_id = status.ChainId, genesis_hash = status.HeadHash, state_root = status.StateRoot, supply = Tokens.Format(status.GenesisSupply) },
                c => c.MarkupLine($"Created chain {status.ChainId} at [bold]{Markup.Escape(path)}[/]: genesis {status.HeadHash}, supply {Tokens.Format(status.GenesisSupply)} {Tokens.Symbol}"));
        }));
        return command;
    }

    private static Command DeployContracts()
    {
        var command = new Command("deploy-contracts", "Deploy SkeinLedger, SkeinTasks and SkeinMarket to an EVM chain with a genesis' allocations and rules; the key's address pays the gas");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true, evm: false);
        var rpc = new Option<string>("--rpc") { Description = "The chain's JSON-RPC URL (skein chain up prints one)", Required = true, HelpName = "url" };
        var genesisFile = new Option<string>("--genesis") { Description = "Genesis file: chain id (must be the chain's), allocations and parameters", Required = true, HelpName = "file" };
        var key = new Option<string>("--key") { Description = "Key that deploys and pays the gas (its address needs ether on the chain; skein chain up --fund gives some)", Required = true, HelpName = "name" };
        command.Add(rpc);
        command.Add(genesisFile);
        command.Add(key);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            if (!Uri.TryCreate(parse.GetValue(rpc), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--rpc: must be an http(s) URL, got '{parse.GetValue(rpc)}'");
            }
            var file = parse.GetValue(genesisFile)!;
            if (!File.Exists(file))
            {
                throw new ArgumentException($"--genesis: {file} does not exist");
            }
            Genesis genesis;
            try
            {
                genesis = GenesisJson.Deserialize(await File.ReadAllTextAsync(file, ct));
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new ArgumentException($"--genesis: {file} is not a genesis file ({ex.Message})", ex);
            }
            var name = parse.GetValue(key)!;
            using var deployer = o.Keys(parse).Unlock(name, o.Password(parse, name));
            Skein.Ledger.Evm.EvmLedger deployed;
            try
            {
                deployed = await Skein.Ledger.Evm.EvmLedger.DeployAsync(url, deployer, genesis, cancellationToken: ct);
            }
            catch (ArgumentException ex) when (ex.Message.StartsWith("rpc:", StringComparison.Ordinal))
            {
                throw new ArgumentException("--" + ex.Message, ex);
            }
            catch (Nethereum.JsonRpc.Client.RpcResponseException ex) when (ex.Message.Contains("funds", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"--key: {deployer.Address} cannot pay the gas on chain {genesis.ChainId} ({ex.Message}); fund it first (skein chain up --fund {deployer.Address})", ex);
            }
            await using (deployed)
            {
                var supply = (await deployed.GetStatusAsync(ct)).GenesisSupply;
                return await LedgerOptions.WriteAsync(parse, o, new
                {
                    chain_id = deployed.ChainId,
                    rpc = url.ToString(),
                    ledger = deployed.ContractAddress,
                    tasks = deployed.TasksAddress,
                    market = deployed.MarketAddress,
                    governance = deployed.GovernanceAddress,
                    deployer = deployer.Address,
                    supply = Tokens.Format(supply),
                }, c => c.MarkupLine($"Deployed on chain {deployed.ChainId}: SkeinLedger [bold]{deployed.ContractAddress}[/], SkeinTasks {deployed.TasksAddress}, SkeinMarket {deployed.MarketAddress}, SkeinGovernance {deployed.GovernanceAddress}; supply {Tokens.Format(supply)} {Tokens.Symbol}"
                    + $"\nUse it: skein coordinator --ledger evm --rpc {Markup.Escape(url.ToString())} --contract {deployed.ContractAddress} ..., or --rpc/--contract on the ledger's commands"));
            }
        }));
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Chain id, head block, state root and supply");
        var o = new LedgerOptions();
        o.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var s = await ledger.GetStatusAsync(ct);
            var supply = s.GenesisSupply + s.Emitted - s.Burned;
            return await LedgerOptions.WriteAsync(parse, o, new
            {
                chain_id = s.ChainId,
                height = s.Height,
                head_hash = s.HeadHash,
                state_root = s.StateRoot,
                genesis_supply = s.GenesisSupply,
                emitted = s.Emitted,
                burned = s.Burned,
                supply,
                held = s.Held,
                supply_conserved = s.SupplyConserved,
            }, c =>
            {
                var grid = new Grid().AddColumn().AddColumn();
                grid.AddRow("chain id", s.ChainId.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("height", s.Height.ToString(CultureInfo.InvariantCulture));
                grid.AddRow("head", s.HeadHash.ToString());
                grid.AddRow("state root", s.StateRoot.ToString());
                grid.AddRow("supply", $"{Tokens.Format(supply)} {Tokens.Symbol} (genesis {Tokens.Format(s.GenesisSupply)} + emitted {Tokens.Format(s.Emitted)} - burned {Tokens.Format(s.Burned)})");
                c.Write(new Panel(grid).Header("Ledger"));
            });
        }));
        return command;
    }

    private static Command Blocks()
    {
        var command = new Command("blocks", "List blocks, newest first");
        var o = new LedgerOptions();
        o.AddTo(command);
        var limit = new Option<int>("--limit") { Description = "How many blocks", DefaultValueFactory = _ => 20 };
        var from = new Option<ulong?>("--from") { Description = "Newest height to list (default: the head)" };
        command.Add(limit);
        command.Add(from);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            if (parse.GetValue(limit) is < 1 or > 10_000)
            {
                throw new ArgumentException($"--limit: must be in [1, 10000], got {parse.GetValue(limit)}");
            }
            await using var ledger = await o.OpenAsync(parse, ct);
            var head = (await ledger.GetStatusAsync(ct)).Height;
            var top = Math.Min(parse.GetValue(from) ?? head, head);
            var blocks = new List<BlockInfo>();
            for (var h = top; blocks.Count < parse.GetValue(limit); h--)
            {
                blocks.Add((await ledger.GetBlockAsync(h, ct))!);
                if (h == 0)
                {
                    break;
                }
            }
            return await LedgerOptions.WriteAsync(parse, o, new { blocks }, c =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("height", "hash", "transactions", "state root", "time (UTC)");
                foreach (var b in blocks)
                {
                    table.AddRow(b.Height.ToString(CultureInfo.InvariantCulture), b.Hash.ToString()[..18] + "…", b.TxCount.ToString(CultureInfo.InvariantCulture),
                        b.StateRoot.ToString()[..18] + "…", DateTimeOffset.FromUnixTimeMilliseconds(b.Timestamp).ToString("u", CultureInfo.InvariantCulture));
                }
                c.Write(table);
            });
        }));
        return command;
    }

    private static Command Tx()
    {
        var command = new Command("tx", "Show a transaction by id");
        var o = new LedgerOptions();
        o.AddTo(command);
        var id = new Argument<string>("id") { Description = "The transaction id (0x + 64 hex digits)" };
        command.Add(id);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var hash = Hash32.Parse(parse.GetValue(id)!, "id");
            await using var ledger = await o.OpenAsync(parse, ct);
            var found = await ledger.GetTransactionAsync(hash, ct) ?? throw new ArgumentException($"id: no transaction {hash} on this chain");
            return await LedgerOptions.WriteAsync(parse, o, new { id = hash, block = found.Receipt.BlockHeight, index = found.Receipt.Index, transaction = found.Transaction },
                c => c.WriteLine($"{found.Transaction.Tx.TypeName} from {found.Transaction.Tx.From} nonce {found.Transaction.Tx.Nonce} in block {found.Receipt.BlockHeight} (#{found.Receipt.Index})\n{found.Transaction.ToJson()}"));
        }));
        return command;
    }

    /// <summary>
    /// Hidden: keeps producing blocks of transfers among deterministic accounts and prints "committed H" after
    /// each commit, so that a test can kill it mid-block and check that no committed block was lost.
    /// </summary>
    private static Command Stress()
    {
        var command = new Command("stress", "Produce blocks of transfers until stopped (for crash tests)") { Hidden = true };
        var o = new LedgerOptions();
        o.AddTo(command, evm: false);
        var blocks = new Option<int>("--blocks") { DefaultValueFactory = _ => 1_000_000 };
        var blockSize = new Option<int>("--block-size") { DefaultValueFactory = _ => 200 };
        command.Add(blocks);
        command.Add(blockSize);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var keys = Enumerable.Range(0, 16)
                .Select(i => Skein.Ledger.Crypto.LedgerKey.FromPrivateKey(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"skein-stress-{i}"))))
                .ToArray();
            var genesis = new Genesis(4242, LedgerParams.Default, keys.Select(k => new GenesisAllocation(k.Address, Tokens.Whole(1_000_000_000))).ToArray(), 0);
            await using var ledger = await EmbeddedLedger.OpenAsync(o.LedgerPath(parse), genesis, cancellationToken: ct);
            var output = parse.InvocationConfiguration.Output;
            for (var b = 0; b < parse.GetValue(blocks); b++)
            {
                var batch = new List<Skein.Ledger.Transactions.SignedTransaction>();
                var nonces = new Dictionary<int, ulong>();
                for (var i = 0; i < parse.GetValue(blockSize); i++)
                {
                    var s = i % keys.Length;
                    if (!nonces.TryGetValue(s, out var nonce))
                    {
                        nonce = await ledger.GetNonceAsync(keys[s].Address, ct);
                    }
                    nonces[s] = nonce + 1;
                    var tx = new Skein.Ledger.Transactions.Transfer { From = keys[s].Address, Nonce = nonce, To = keys[(s + 1) % keys.Length].Address, Amount = 1 };
                    batch.Add(keys[s].SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId });
                }
                var results = await ledger.SubmitBatchAsync(batch, ct);
                await output.WriteLineAsync($"committed {results[0].Receipt!.BlockHeight} {results.Count(r => r.Receipt is not null)}");
                await output.FlushAsync(ct);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Verify()
    {
        var command = new Command("verify", "Replay the chain from genesis, checking every signature, nonce, hash link and state root");
        var o = new LedgerOptions();
        o.AddTo(command, evm: false);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var path = o.LedgerPath(parse);
            if (!File.Exists(path))
            {
                throw new ArgumentException($"--ledger: no chain at {path}");
            }
            var report = await EmbeddedLedger.VerifyAsync(path, ct);
            await LedgerOptions.WriteAsync(parse, o, new
            {
                ok = report.Ok,
                blocks = report.BlocksChecked,
                transactions = report.TransactionsChecked,
                first_bad_block = report.FirstBadBlock,
                reason = report.Reason,
                state_root = report.HeadStateRoot,
            }, c => c.MarkupLine(report.Ok
                ? $"[green]ok[/]: {report.BlocksChecked} blocks and {report.TransactionsChecked} transactions replayed from genesis; state root {report.HeadStateRoot}"
                : $"[red]bad block {report.FirstBadBlock}[/]: {Markup.Escape(report.Reason ?? "")}"));
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        }));
        return command;
    }
}
