namespace Skein.Console.Data;

/// <summary>The stake and delegate forms: a role, an amount, an operator (delegations only) and the button pressed.</summary>
public sealed class StakeForm
{
    public string Role { get; set; } = "trainer";

    public string Amount { get; set; } = "";

    public string Operator { get; set; } = "";

    /// <summary>stake, unstake, delegate or undelegate.</summary>
    public string Intent { get; set; } = "";

    /// <summary>The ledger role named, or an error naming the field.</summary>
    public (Skein.Ledger.Transactions.Role? Role, string? Error) ParseRole() => Role switch
    {
        "trainer" => (Skein.Ledger.Transactions.Role.Trainer, null),
        "validator" => (Skein.Ledger.Transactions.Role.Validator, null),
        _ => (null, $"role: must be trainer or validator, got '{Role}'"),
    };
}
