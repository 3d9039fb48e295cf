using System.CommandLine;
using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Governance;
using Skein.Ledger.Transactions;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>`skein gov propose|vote|list|show|tally|params`: stake-weighted proposals on the ledger (docs/governance.md).</summary>
public static class GovCommands
{
    private static readonly Dictionary<string, ProposalKind> Kinds = new(StringComparer.Ordinal)
    {
        ["parameter_change"] = ProposalKind.ParameterChange,
        ["task_approval"] = ProposalKind.TaskApproval,
        ["model_release"] = ProposalKind.ModelRelease,
        ["treasury_spend"] = ProposalKind.TreasurySpend,
    };

    private static readonly Dictionary<string, VoteOption> Options = new(StringComparer.Ordinal)
    {
        ["yes"] = VoteOption.Yes,
        ["abstain"] = VoteOption.Abstain,
        ["no"] = VoteOption.No,
        ["no_with_veto"] = VoteOption.NoWithVeto,
    };

    public static Command Build()
    {
        var gov = new Command("gov", "Governance: proposals that change the rules, approve tasks, release models and spend the treasury, decided by stake");
        gov.Add(Propose());
        gov.Add(Vote());
        gov.Add(List());
        gov.Add(Show("show", "A proposal: what it asks, its votes, and its tally or outcome"));
        gov.Add(Show("tally", "A proposal's count as it stands (or as it ended), with quorum, veto and threshold"));
        gov.Add(Params());
        return gov;
    }

    private static Command Propose()
    {
        var command = new Command("propose", "Open a proposal and lock its deposit");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var kind = new Option<string>("--kind") { Description = $"One of {string.Join(", ", Kinds.Keys)}", Required = true };
        var parameter = new Option<string?>("--parameter") { Description = "parameter_change: the governed parameter (skein gov params lists them)" };
        var value = new Option<string?>("--value") { Description = "parameter_change: the new value (an integer, in the parameter's unit)" };
        var task = new Option<ulong>("--task") { Description = "task_approval, model_release: the task; treasury_spend: the task whose pool to fund" };
        var model = new Option<string?>("--model") { Description = "model_release: the model's hash (a settled round's model)" };
        var name = new Option<string?>("--name") { Description = "model_release: the release's name" };
        var license = new Option<string?>("--license") { Description = "model_release: a license tag, e.g. apache-2.0" };
        var recipient = new Option<string?>("--recipient") { Description = "treasury_spend: the account to pay" };
        var amount = new Option<string?>("--amount") { Description = "treasury_spend: tokens to pay, e.g. 12.5" };
        var deposit = new Option<string>("--deposit") { Description = "Tokens to lock (at least governance.min_deposit)", DefaultValueFactory = _ => "10" };
        foreach (var option in new Option[] { key, kind, parameter, value, task, model, name, license, recipient, amount, deposit })
        {
            command.Add(option);
        }
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            if (!Kinds.TryGetValue(parse.GetValue(kind)!, out var k))
            {
                throw new ArgumentException($"--kind: must be one of {string.Join(", ", Kinds.Keys)}; got '{parse.GetValue(kind)}'");
            }
            var parsedValue = UInt128.Zero;
            if (parse.GetValue(value) is { } v && !UInt128.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out parsedValue))
            {
                throw new ArgumentException($"--value: must be a non-negative integer, got '{v}'");
            }
            var modelHash = parse.GetValue(model) is { } m ? Hash32.Parse(m.StartsWith("0x", StringComparison.Ordinal) ? m : "0x" + m) : Hash32.Zero;
            var to = parse.GetValue(recipient) is { } r ? Address.Parse(r) : Address.Zero;
            var pay = parse.GetValue(amount) is { } a ? Tokens.Parse(a, "--amount") : UInt128.Zero;
            var locked = Tokens.Parse(parse.GetValue(deposit)!, "--deposit");
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, _) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new SubmitProposal
            {
                From = from,
                Nonce = nonce,
                Kind = k,
                Parameter = parse.GetValue(parameter) ?? "",
                Value = parsedValue,
                TaskId = parse.GetValue(task),
                ModelHash = modelHash,
                Name = parse.GetValue(name) ?? "",
                License = parse.GetValue(license) ?? "",
                Recipient = to,
                Amount = pay,
                Deposit = locked,
            }, ct);
            var proposal = (await ledger.GetGovernanceAsync(ct)).Proposals[^1];
            return await LedgerOptions.WriteAsync(parse, o, new { proposal_id = proposal.Id, end_height = proposal.EndHeight, id = receipt.Id, block = receipt.BlockHeight },
                c => c.MarkupLine($"Proposal [bold]{proposal.Id}[/] ({proposal.Kind}) open in block {receipt.BlockHeight}; voting ends at height {proposal.EndHeight}; {Tokens.Format(proposal.Deposit)} {Tokens.Symbol} locked"));
        }));
        return command;
    }

    private static Command Vote()
    {
        var command = new Command("vote", "Vote on a proposal with the stake you (or your delegations) had when it started");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = AccountCommands.KeyOption();
        var id = new Argument<ulong>("id") { Description = "The proposal" };
        var option = new Argument<string>("option") { Description = $"One of {string.Join(", ", Options.Keys)}" };
        command.Add(key);
        command.Add(id);
        command.Add(option);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            if (!Options.TryGetValue(parse.GetValue(option)!, out var choice))
            {
                throw new ArgumentException($"option: must be one of {string.Join(", ", Options.Keys)}; got '{parse.GetValue(option)}'");
            }
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, signed) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new VoteProposal { From = from, Nonce = nonce, ProposalId = parse.GetValue(id), Option = choice }, ct);
            return await LedgerOptions.WriteAsync(parse, o, new { proposal_id = parse.GetValue(id), voter = signed.Tx.From, option = parse.GetValue(option), id = receipt.Id, block = receipt.BlockHeight },
                c => c.MarkupLine($"{signed.Tx.From} voted [bold]{parse.GetValue(option)}[/] on proposal {parse.GetValue(id)} in block {receipt.BlockHeight}"));
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "Every proposal with its status");
        var o = new LedgerOptions();
        o.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var gov = await ledger.GetGovernanceAsync(ct);
            return await LedgerOptions.WriteAsync(parse, o, new { proposals = gov.Proposals.Select(Json).ToArray(), treasury = gov.Treasury }, c =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "kind", "asks", "proposer", "ends at", "votes", "status");
                foreach (var p in gov.Proposals)
                {
                    table.AddRow(p.Id.ToString(CultureInfo.InvariantCulture), p.Kind, Markup.Escape(p.Asks), p.Proposer.ToString()[..10] + "…",
                        p.EndHeight.ToString(CultureInfo.InvariantCulture), p.Votes.Count.ToString(CultureInfo.InvariantCulture), p.Status);
                }
                c.Write(table);
                c.MarkupLine($"treasury: {Tokens.Format(gov.Treasury)} {Tokens.Symbol}");
            });
        }));
        return command;
    }

    private static Command Show(string verb, string description)
    {
        var command = new Command(verb, description);
        var o = new LedgerOptions();
        o.AddTo(command);
        var id = new Argument<ulong>("id") { Description = "The proposal" };
        command.Add(id);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var gov = await ledger.GetGovernanceAsync(ct);
            var p = gov.Proposals.FirstOrDefault(x => x.Id == parse.GetValue(id))
                ?? throw new LedgerException(LedgerError.UnknownProposal, $"id: no proposal {parse.GetValue(id)} on this ledger");
            var tally = p.Tally ?? Provisional(p, gov);
            return await LedgerOptions.WriteAsync(parse, o, new { proposal = Json(p), tally = TallyJson(tally, gov, final: p.Tally is not null) }, c =>
            {
                c.MarkupLine($"Proposal [bold]{p.Id}[/] ({p.Kind}) by {p.Proposer}: {Markup.Escape(p.Asks)}; {p.Status}{(p.Outcome.Length > 0 ? " - " + Markup.Escape(p.Outcome) : "")}");
                c.MarkupLine($"voting from height {p.StartHeight} to {p.EndHeight}; snapshot power {Tokens.Format(p.SnapshotPower)} {Tokens.Symbol}; deposit {Tokens.Format(p.Deposit)}");
                var table = new Table().Border(TableBorder.Rounded).AddColumns("yes", "abstain", "no", "no with veto", "voted", "quorum", "vetoed", "passes");
                table.AddRow(Tokens.Format(tally.Yes), Tokens.Format(tally.Abstain), Tokens.Format(tally.No), Tokens.Format(tally.NoWithVeto),
                    Tokens.Format(tally.Voted), tally.QuorumReached ? "reached" : "not reached", tally.Vetoed ? "yes" : "no", tally.Passed ? "yes" : "no");
                c.Write(table);
                if (p.Tally is null)
                {
                    c.MarkupLine("(the count so far, under the rules in force now; it is final at the end height)");
                }
            });
        }));
        return command;
    }

    private static Command Params()
    {
        var command = new Command("params", "Every governed parameter's value in force, and the treasury");
        var o = new LedgerOptions();
        o.AddTo(command);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            await using var ledger = await o.OpenAsync(parse, ct);
            var gov = await ledger.GetGovernanceAsync(ct);
            return await LedgerOptions.WriteAsync(parse, o, new
            {
                parameters = gov.Parameters.Select(p => new { name = p.Name, value = p.Value, range = Range(p.Name), meaning = GovernedParameters.Find(p.Name)!.Meaning }).ToArray(),
                treasury = gov.Treasury,
                releases = gov.Releases.Select(r => new { task_id = r.TaskId, model = r.Release.ModelHash, name = r.Release.Name, license = r.Release.License, proposal_id = r.Release.ProposalId }).ToArray(),
            }, c =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("parameter", "value", "range");
                foreach (var (name, value) in gov.Parameters)
                {
                    table.AddRow(name, value.ToString(CultureInfo.InvariantCulture), Range(name));
                }
                c.Write(table);
                c.MarkupLine($"treasury: {Tokens.Format(gov.Treasury)} {Tokens.Symbol}");
            });
        }));
        return command;
    }

    /// <summary>A voting proposal's count so far, by the same rule the ledger will apply at its end.</summary>
    private static TallyResult Provisional(ProposalInfo p, GovernanceInfo gov)
    {
        var rules = GovernanceParams.Default with
        {
            QuorumBps = (uint)Value(gov, "governance.quorum_bps"),
            ThresholdBps = (uint)Value(gov, "governance.threshold_bps"),
            VetoBps = (uint)Value(gov, "governance.veto_bps"),
        };
        return GovernanceTally.Count(p.Snapshot, p.Votes, rules);
    }

    private static UInt128 Value(GovernanceInfo gov, string name) => gov.Parameters.First(p => p.Name == name).Value;

    private static string Range(string name) => GovernedParameters.Find(name) is { } p ? $"[{p.Min}, {p.Max}]" : "";

    private static object Json(ProposalInfo p) => new
    {
        id = p.Id,
        kind = p.Kind,
        proposer = p.Proposer,
        deposit = p.Deposit,
        start_height = p.StartHeight,
        end_height = p.EndHeight,
        status = p.Status,
        outcome = p.Outcome,
        asks = p.Asks,
        parameter = p.Parameter,
        value = p.Value,
        task_id = p.TaskId,
        model_hash = p.ModelHash,
        name = p.Name,
        license = p.License,
        recipient = p.Recipient,
        amount = p.Amount,
        snapshot_power = p.SnapshotPower,
        votes = p.Votes.Select(v => new { voter = v.Key, option = Options.First(o => o.Value == v.Value).Key }).ToArray(),
        decided_height = p.DecidedHeight,
    };

    private static object TallyJson(TallyResult t, GovernanceInfo gov, bool final) => new
    {
        final,
        yes = t.Yes,
        abstain = t.Abstain,
        no = t.No,
        no_with_veto = t.NoWithVeto,
        voted = t.Voted,
        total_power = t.TotalPower,
        quorum_reached = t.QuorumReached,
        vetoed = t.Vetoed,
        passed = t.Passed,
        quorum_bps = Value(gov, "governance.quorum_bps"),
        threshold_bps = Value(gov, "governance.threshold_bps"),
        veto_bps = Value(gov, "governance.veto_bps"),
    };
}
