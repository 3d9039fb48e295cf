using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Governance;
using Skein.Ledger.Transactions;

namespace Skein.Console.Data;

/// <summary>Proposing and voting with the console's key: the transactions <c>skein gov propose</c> and <c>skein gov vote</c> send.</summary>
public sealed partial class ConsoleActions
{
    private static readonly Dictionary<string, ProposalKind> ProposalKinds = new(StringComparer.Ordinal)
    {
        ["parameter_change"] = ProposalKind.ParameterChange,
        ["task_approval"] = ProposalKind.TaskApproval,
        ["model_release"] = ProposalKind.ModelRelease,
        ["treasury_spend"] = ProposalKind.TreasurySpend,
    };

    /// <summary>The four options as <c>skein gov vote</c> names them, with how the page labels them.</summary>
    public static IReadOnlyList<(string Name, string Label, VoteOption Option)> VoteOptions { get; } =
    [
        ("yes", "Yes", VoteOption.Yes),
        ("abstain", "Abstain", VoteOption.Abstain),
        ("no", "No", VoteOption.No),
        ("no_with_veto", "No with veto", VoteOption.NoWithVeto),
    ];

    /// <summary>
    /// Opens a proposal of the form's kind with the fields of that kind only (the ledger refuses fields a kind does not
    /// use) and locks the deposit; refusals are the ledger's, word for word, or name the form's field.
    /// </summary>
    public async Task<ActionResult> ProposeAsync(ProposalForm form, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(form);
        if (!CanAct)
        {
            return new ActionResult(false, "this console is read-only");
        }
        var (built, error) = Build(form);
        if (built is null)
        {
            return new ActionResult(false, error!);
        }
        const string Opened = "proposal opened";
        var result = await SendAsync((f, n) => built with { From = f, Nonce = n }, Opened, ct);
        if (!result.Ok)
        {
            return result;
        }
        var me = Key.Address.ToString();
        var p = (await data.GovernanceAsync(ct)).Proposals.LastOrDefault(x => x.Proposer == me);
        return p is null ? result : result with
        {
            Message = result.Message.Replace(Opened, $"proposal {p.Id} ({p.Kind}) opened: {p.Asks}; voting ends at height {p.EndHeight}; {p.Deposit} {Tokens.Symbol} locked", StringComparison.Ordinal),
        };
    }

    /// <summary>Casts (or changes) the console key's vote: <paramref name="option"/> is yes, abstain, no or no_with_veto.</summary>
    public Task<ActionResult> VoteAsync(ulong proposalId, string option, CancellationToken ct)
    {
        var choice = VoteOptions.FirstOrDefault(o => o.Name == option);
        if (choice.Name is null)
        {
            return Task.FromResult(new ActionResult(false, $"option: must be one of {string.Join(", ", VoteOptions.Select(o => o.Name))}; got '{option}'"));
        }
        return SendAsync((f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = proposalId, Option = choice.Option },
            $"voted {option} on proposal {proposalId}", ct);
    }

    /// <summary>The proposal the form asks for (sender and nonce still to fill in), or the error naming the field at fault.</summary>
    private static (SubmitProposal? Proposal, string? Error) Build(ProposalForm form)
    {
        if (!ProposalKinds.TryGetValue(form.Kind, out var kind))
        {
            return (null, $"kind: must be one of {string.Join(", ", ProposalKinds.Keys)}; got '{form.Kind}'");
        }
        if (!Parse(form.Deposit.Trim(), out var deposit, out var depositError, "deposit"))
        {
            return (null, depositError.Message);
        }
        var proposal = new SubmitProposal { From = default, Nonce = 0, Kind = kind, Deposit = deposit };
        switch (kind)
        {
            case ProposalKind.ParameterChange:
                return UInt128.TryParse(form.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                    ? (proposal with { Parameter = form.Parameter.Trim(), Value = value }, null)
                    : (null, $"value: must be a non-negative integer in the parameter's unit, got '{form.Value}'");
            case ProposalKind.TaskApproval:
                return TaskId(form.ApproveTask, out var approve, out var approveError) ? (proposal with { TaskId = approve }, null) : (null, approveError);
            case ProposalKind.ModelRelease:
                {
                    if (!TaskId(form.ReleaseTask, out var task, out var taskError))
                    {
                        return (null, taskError);
                    }
                    try
                    {
                        var model = Hash32.Parse(form.ModelHash.Trim(), "model_hash");
                        return (proposal with { TaskId = task, ModelHash = model, Name = form.Name.Trim(), License = form.License.Trim() }, null);
                    }
                    catch (FormatException ex)
                    {
                        return (null, ex.Message);
                    }
                }
            default:
                {
                    if (!Parse(form.Amount.Trim(), out var amount, out var amountError))
                    {
                        return (null, amountError.Message);
                    }
                    // Exactly one of the two is the ledger's rule, and its refusal says so.
                    var recipient = Skein.Ledger.Address.Zero;
                    if (form.Recipient.Trim() is { Length: > 0 } to && !Skein.Ledger.Address.TryParse(to, out recipient, out var why))
                    {
                        return (null, $"recipient: {why}");
                    }
                    ulong fund = 0;
                    if (form.FundTask.Trim().Length > 0 && !TaskId(form.FundTask, out fund, out var fundError))
                    {
                        return (null, fundError);
                    }
                    return (proposal with { Amount = amount, Recipient = recipient, TaskId = fund }, null);
                }
        }
    }

    private static bool TaskId(string text, out ulong id, out string? error)
    {
        if (ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0)
        {
            error = null;
            return true;
        }
        error = $"task_id: must be a task number, got '{text}'";
        return false;
    }
}
