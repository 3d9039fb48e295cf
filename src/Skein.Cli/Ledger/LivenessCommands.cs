using System.CommandLine;
using System.Globalization;
using Skein.Coordinator.Api;
using Skein.Coordinator.Rounds;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Governance;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>
/// What no coordinator can take away: `skein round close` (anyone staked, after a phase's deadline), `skein task
/// cancel` (anyone, after the abandonment period), `skein task handover` (the creator) and `skein task leave` (a member).
/// </summary>
public static class LivenessCommands
{
    /// <summary>The task subcommands: cancel, handover, leave.</summary>
    public static IEnumerable<Command> TaskCommands() => [Cancel(), Handover(), Leave()];

    /// <summary>`skein round close`.</summary>
    public static Command Round()
    {
        var round = new Command("round", "Rounds of a task on the ledger");
        round.Add(Close());
        return round;
    }

    private static Command Close()
    {
        var command = new Command("close", "Close the current phase of a task's open round: its coordinator may at any time, anyone staked in the task once the phase's deadline has passed. Settling a round that accepted updates records their aggregate, computed here from the task's spec and the updates (from --blobs-from), exactly as the coordinator would");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var task = new Option<ulong>("--task") { Description = "The task", Required = true, HelpName = "id" };
        var spec = new Option<string?>("--spec") { Description = "The task's spec (JSON), checked against its hash on the ledger; needed to settle a round that accepted updates", HelpName = "file" };
        var blobs = new Option<string[]>("--blobs-from") { Description = "Where to read models and updates by hash: a folder of blobs (a coordinator's blobs/ folder, or files named by their SHA-256) or a coordinator's API URL (repeatable, tried in order)", HelpName = "folder|url" };
        var modelOut = new Option<string?>("--model-out") { Description = "When settling makes a new model: write it to this folder, named by its SHA-256, for a coordinator to take (--peer) and nodes to download", HelpName = "folder" };
        command.Add(key);
        command.Add(task);
        command.Add(spec);
        command.Add(blobs);
        command.Add(modelOut);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var id = parse.GetValue(task);
            var info = await ledger.GetTaskAsync(id, ct) ?? throw new LedgerException(LedgerError.UnknownTask, $"--task: no task {id} on this ledger");
            TaskSpec? parsed = null;
            if (parse.GetValue(spec) is { } file)
            {
                parsed = File.Exists(file) ? TaskSpec.Parse(await File.ReadAllTextAsync(file, ct), file) : throw new ArgumentException($"--spec: file '{file}' does not exist");
                if (Hash32.Parse(parsed.Sha256()) != info.SpecHash)
                {
                    throw new ArgumentException($"--spec: hashes to {parsed.Sha256()}, but task {id} was created with spec {info.SpecHash}");
                }
            }
            var sources = parse.GetValue(blobs) ?? [];
            var read = sources.Length == 0 ? null : Reader(sources);
            var incentives = await IncentivesAsync(ledger, ct);
            var keyName = parse.GetValue(key)!;
            var signer = o.ResolveAccount(parse, keyName, "--key");
            var closing = await RoundCloser.NextAsync(ledger, id, signer, parsed, read, incentives, ct);
            var status = await ledger.GetMarketStatusAsync(ct);
            var (receipt, _) = await o.SendAsync(parse, ledger, keyName, (from, nonce) => closing.Transaction with { From = from, Nonce = nonce }, ct);
            var after = (await ledger.GetRoundAsync(id, closing.Round.Round, ct))!;
            string? modelFile = null;
            if (closing.Model?.Bytes is { } bytes && parse.GetValue(modelOut) is { } folder)
            {
                Directory.CreateDirectory(folder);
                modelFile = Path.Combine(folder, closing.Model.Hash.ToString()[2..]);
                await File.WriteAllBytesAsync(modelFile, bytes, ct);
            }
            var closed = closing.Round.Phase switch
            {
                RoundPhase.Training => "training",
                RoundPhase.Committing => "commits",
                _ => "round",
            };
            var json = new
            {
                task_id = id,
                round = closing.Round.Round,
                closed,
                phase = after.Phase.ToString().ToLowerInvariant(),
                by = signer,
                coordinator = info.Coordinator,
                deadline = closing.Round.Deadline,
                market_height = status.MarketHeight,
                new_model_hash = closing.Model?.Hash,
                accepted = closing.Model?.Accepted,
                model_file = modelFile,
                id = receipt.Id,
                block = receipt.BlockHeight,
            };
            return await LedgerOptions.WriteAsync(parse, o, json, c => c.MarkupLine(closing.Model is { } m
                ? $"Round {closing.Round.Round} of task {id} settled by {signer} in block {receipt.BlockHeight}: {m.Accepted} update(s) accepted, model {m.Hash}"
                : $"Round {closing.Round.Round} of task {id}: {closed} closed by {signer} in block {receipt.BlockHeight}; now {json.phase}"));
        }));
        return command;
    }

    private static Command Cancel()
    {
        var command = new Command("cancel", "Cancel a task that made no progress for the abandonment period (liveness.abandon_blocks): anyone may. Its unpaid pool returns to its creator, its members' stakes are free, settled rounds keep their payouts");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var id = new Argument<ulong>("id") { Description = "Task id" };
        command.Add(key);
        command.Add(id);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var taskId = parse.GetValue(id);
            var before = await ledger.GetTaskAsync(taskId, ct) ?? throw new LedgerException(LedgerError.UnknownTask, $"id: no task {taskId} on this ledger");
            var creatorBefore = await ledger.GetBalanceAsync(before.Creator, ct);
            var (receipt, signed) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new CancelTask { From = from, Nonce = nonce, TaskId = taskId }, ct);
            var after = (await ledger.GetTaskAsync(taskId, ct))!;
            var creatorAfter = await ledger.GetBalanceAsync(after.Creator, ct);
            var json = new
            {
                task_id = taskId,
                cancelled = after.Cancelled,
                by = signed.Tx.From,
                creator = after.Creator,
                refunded = after.Refunded,
                creator_balance_before = creatorBefore,
                creator_balance_after = creatorAfter,
                settled_rounds = after.SettledRounds,
                released = after.Trainers.Concat(after.Validators).Distinct().ToArray(),
                id = receipt.Id,
                block = receipt.BlockHeight,
            };
            return await LedgerOptions.WriteAsync(parse, o, json, c => c.MarkupLine(
                $"Task {taskId} cancelled in block {receipt.BlockHeight} after {after.SettledRounds} settled round(s): {Tokens.Format(after.Refunded)} {Tokens.Symbol} back to its creator {after.Creator}; {json.released.Length} member(s) released"));
        }));
        return command;
    }

    private static Command Handover()
    {
        var command = new Command("handover", "Move a task's coordination to another address (the creator's key signs); start that address's coordinator with --take-over to resume the task from the ledger and the published blobs");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var id = new Argument<ulong>("id") { Description = "Task id" };
        var to = new Option<string>("--to") { Description = "The new coordinator: an address or a key name", Required = true, HelpName = "address" };
        command.Add(key);
        command.Add(id);
        command.Add(to);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var taskId = parse.GetValue(id);
            var target = o.ResolveAccount(parse, parse.GetValue(to)!, "--to");
            var before = await ledger.GetTaskAsync(taskId, ct) ?? throw new LedgerException(LedgerError.UnknownTask, $"id: no task {taskId} on this ledger");
            var (receipt, _) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new HandoverTask { From = from, Nonce = nonce, TaskId = taskId, Coordinator = target }, ct);
            var after = (await ledger.GetTaskAsync(taskId, ct))!;
            return await LedgerOptions.WriteAsync(parse, o, new { task_id = taskId, from_coordinator = before.Coordinator, coordinator = after.Coordinator, settled_rounds = after.SettledRounds, id = receipt.Id, block = receipt.BlockHeight },
                c => c.MarkupLine($"Task {taskId} handed over from {before.Coordinator} to {after.Coordinator} in block {receipt.BlockHeight}, after {after.SettledRounds} settled round(s)"));
        }));
        return command;
    }

    private static Command Leave()
    {
        var command = new Command("leave", "Leave a task in a role. Between rounds the stake is free at once; picked in a round not yet settled, it stays bound to that round, and what is left undone there counts as missing");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var id = new Argument<ulong>("id") { Description = "Task id" };
        var role = new Option<string>("--role") { Description = "trainer or validator", Required = true, HelpName = "role" };
        command.Add(key);
        command.Add(id);
        command.Add(role);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var taskId = parse.GetValue(id);
            var r = AccountCommands.ParseRole(parse.GetValue(role)!);
            var (receipt, signed) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new LeaveTask { From = from, Nonce = nonce, TaskId = taskId, Role = r }, ct);
            var task = (await ledger.GetTaskAsync(taskId, ct))!;
            var open = task.Live ? await ledger.GetRoundAsync(taskId, task.SettledRounds + 1, ct) : null;
            var boundTo = open is { Phase: not RoundPhase.Settled } && (r == Role.Trainer ? open.PickedTrainers : open.PickedValidators).Contains(signed.Tx.From) ? open.Round : (uint?)null;
            return await LedgerOptions.WriteAsync(parse, o, new { task_id = taskId, role = r.ToString().ToLowerInvariant(), address = signed.Tx.From, bound_to_round = boundTo, id = receipt.Id, block = receipt.BlockHeight },
                c => c.MarkupLine(boundTo is { } b
                    ? $"{signed.Tx.From} left task {taskId}; it was picked for round {b}, so its stake stays bound until that round settles"
                    : $"{signed.Tx.From} left task {taskId}; its {r.ToString().ToLowerInvariant()} stake is free of it"));
        }));
        return command;
    }

    /// <summary>The settlement parameters in force on the ledger (governance may have changed the genesis's).</summary>
    internal static async Task<IncentiveParams> IncentivesAsync(ILedger ledger, CancellationToken ct)
    {
        if (ledger is Skein.Ledger.Evm.EvmLedger evm)
        {
            return await evm.GetIncentivesAsync(ct);
        }
        var parameters = LedgerParams.Default;
        foreach (var (name, value) in (await ledger.GetGovernanceAsync(ct)).Parameters)
        {
            if (GovernedParameters.Find(name) is { } p && name.StartsWith("incentives.", StringComparison.Ordinal))
            {
                parameters = p.Write(parameters, value);
            }
        }
        return parameters.Incentives;
    }

    /// <summary>Reads blobs by hash from folders (files named by their SHA-256) and coordinators' APIs, checking each against its hash.</summary>
    private static RoundAggregation.BlobReader Reader(string[] sources)
    {
        var peers = sources.Select(p => Uri.TryCreate(p, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
            : Directory.Exists(p) ? new Uri(Path.GetFullPath(p)) : throw new ArgumentException($"--blobs-from: must be an http(s) URL or a folder of blobs, got '{p}'")).ToArray();
        return async (sha256, ct) => await Skein.Coordinator.CoordinatorContext.FromPeersAsync(peers, sha256, ct)
            ?? throw new FileNotFoundException(string.Create(CultureInfo.InvariantCulture, $"--blobs-from: blob {sha256} is in none of the {peers.Length} source(s)"));
    }
}
