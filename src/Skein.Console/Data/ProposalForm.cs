namespace Skein.Console.Data;

/// <summary>
/// The new-proposal form: the kind, then each kind's own inputs (all on the page, so that it works without scripts;
/// only the chosen kind's are sent), and the deposit.
/// </summary>
public sealed class ProposalForm
{
    /// <summary>Each kind as the ledger and <c>skein gov propose --kind</c> name it (the form's sections say what each asks).</summary>
    public static IReadOnlyList<(string Value, string Text)> Kinds { get; } =
        [("parameter_change", "parameter_change"), ("task_approval", "task_approval"), ("model_release", "model_release"), ("treasury_spend", "treasury_spend")];

    public string Kind { get; set; } = "parameter_change";

    public string Parameter { get; set; } = "";

    /// <summary>An integer in the parameter's unit (basis points, blocks, base units), as <c>skein gov propose --value</c> takes it.</summary>
    public string Value { get; set; } = "";

    public string ApproveTask { get; set; } = "";

    public string ReleaseTask { get; set; } = "";

    public string ModelHash { get; set; } = "";

    public string Name { get; set; } = "";

    public string License { get; set; } = "";

    /// <summary>Tokens, e.g. "12.5".</summary>
    public string Amount { get; set; } = "";

    public string Recipient { get; set; } = "";

    public string FundTask { get; set; } = "";

    /// <summary>Tokens to lock; the page fills in <c>governance.min_deposit</c>.</summary>
    public string Deposit { get; set; } = "";

    /// <summary>
    /// The input a refusal is about, by the field it names before its colon ("deposit: ..." is the deposit's, and
    /// "incentives.trainer_slash_bps: must be in ..." the value's), so that the page can mark it; null for the others.
    /// </summary>
    public string? InputOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var colon = message.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? "" : message[..colon];
        var task = Kind switch { "task_approval" => "approve-task", "model_release" => "release-task", "treasury_spend" => "fund-task", _ => null };
        return field switch
        {
            "kind" => "kind",
            "deposit" => "deposit",
            "parameter" or "parameter, value" => "parameter",
            "value" => "value",
            "task_id" => task,
            "model_hash" => "model",
            "name" or "name, license" => "name",
            "license" => "license",
            "amount" => "amount",
            "recipient" or "recipient, task_id" or "recipient, amount" => "recipient",
            _ when Skein.Ledger.Governance.GovernedParameters.Find(field) is not null => "value",
            _ => null,
        };
    }
}
