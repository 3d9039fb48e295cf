using System.CommandLine;
using System.Globalization;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Transactions;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>`skein task create|list|show`.</summary>
public static class TaskCommands
{
    public static Command Build()
    {
        var task = new Command("task", "Training tasks on the ledger");
        task.Add(Create());
        task.Add(List());
        task.Add(Show());
        foreach (var c in LivenessCommands.TaskCommands())
        {
            task.Add(c);
        }
        return task;
    }

    private static Command Create()
    {
        var command = new Command("create", "Publish a task from a spec file (JSON); its reward pool is escrowed from the key's balance");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var spec = new Option<string>("--spec") { Description = "The task spec (JSON; see docs/tasks.md)", Required = true, HelpName = "file" };
        command.Add(key);
        command.Add(spec);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var file = parse.GetValue(spec)!;
            if (!File.Exists(file))
            {
                throw new ArgumentException($"--spec: file '{file}' does not exist");
            }
            var parsed = TaskSpec.Parse(await File.ReadAllTextAsync(file, ct), file);
            var specHash = Hash32.Parse(parsed.Sha256());
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, _) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => TaskCreation.For(parsed, from, nonce), ct);
            var created = (await ledger.ListTasksAsync(ct)).Last(t => t.SpecHash == specHash);
            return await LedgerOptions.WriteAsync(parse, o, new { task_id = created.Id, spec_hash = specHash, id = receipt.Id, block = receipt.BlockHeight },
                c => c.MarkupLine($"Task [bold]{created.Id}[/] ({Markup.Escape(parsed.Name)}) created in block {receipt.BlockHeight}; spec {specHash}; {Tokens.Format(created.RewardPool)} {Tokens.Symbol} escrowed"));
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List tasks");
        var o = new LedgerOptions();
        o.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var tasks = await ledger.ListTasksAsync(ct);
            return await LedgerOptions.WriteAsync(parse, o, new { tasks }, c =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "creator", "rounds", "pool", "escrow", "min stake", "trainers", "validators", "status");
                foreach (var t in tasks)
                {
                    table.AddRow(t.Id.ToString(CultureInfo.InvariantCulture), t.Creator.ToString()[..10] + "…", $"{t.SettledRounds}/{t.Rounds}",
                        Tokens.Format(t.RewardPool), Tokens.Format(t.Escrow), Tokens.Format(t.MinStake), t.Trainers.Count.ToString(CultureInfo.InvariantCulture),
                        t.Validators.Count.ToString(CultureInfo.InvariantCulture), t.Completed ? "completed" : t.Cancelled ? "cancelled" : "open");
                }
                c.Write(table);
            });
        }));
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "Show a task and its rounds");
        var o = new LedgerOptions();
        o.AddTo(command);
        var id = new Argument<ulong>("id") { Description = "Task id" };
        command.Add(id);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var task = await ledger.GetTaskAsync(parse.GetValue(id), ct) ?? throw new LedgerException(LedgerError.UnknownTask, $"id: no task {parse.GetValue(id)} on this ledger");
            var rounds = new List<RoundInfo>();
            for (var r = 1u; r <= task.Rounds; r++)
            {
                if (await ledger.GetRoundAsync(task.Id, r, ct) is { } round)
                {
                    rounds.Add(round);
                }
            }
            return await LedgerOptions.WriteAsync(parse, o, new { task, rounds }, c =>
            {
                c.MarkupLine($"Task [bold]{task.Id}[/] by {task.Creator}: {task.SettledRounds}/{task.Rounds} rounds settled, escrow {Tokens.Format(task.Escrow)} of {Tokens.Format(task.RewardPool)} {Tokens.Symbol}, spec {task.SpecHash}");
                c.MarkupLine(task.Cancelled
                    ? $"Cancelled: {Tokens.Format(task.Refunded)} {Tokens.Symbol} went back to the creator"
                    : task.Live ? $"Coordinated by {task.Coordinator}; anyone may cancel it from market height {task.AbandonHeight} if it makes no progress until then" : "Completed");
                var table = new Table().Border(TableBorder.Rounded).AddColumns("round", "phase", "deadline", "updates", "accepted", "revealed", "reward", "model");
                foreach (var r in rounds)
                {
                    table.AddRow(r.Round.ToString(CultureInfo.InvariantCulture), r.Phase.ToString().ToLowerInvariant(), r.Deadline == 0 ? "-" : r.Deadline.ToString(CultureInfo.InvariantCulture), r.Updates.Count.ToString(CultureInfo.InvariantCulture),
                        r.Outcomes.Count(x => x.Accepted).ToString(CultureInfo.InvariantCulture), $"{r.Revealed.Count}/{r.Committed.Count}", Tokens.Format(r.Reward),
                        r.NewModelHash.ToString()[..14] + "…");
                }
                c.Write(table);
            });
        }));
        return command;
    }
}
