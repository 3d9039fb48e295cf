namespace Skein.Ledger.Evm;

/// <summary>How the EVM ledger deals with its node: how deep a transaction must be before it counts, and how long an unreachable node is waited out.</summary>
public sealed record EvmLedgerOptions
{
    /// <summary>Blocks that must hold a transaction (its own included) before a submission returns: 1 on a dev chain, more on a chain that can reorganise.</summary>
    public int Confirmations { get; init; } = 1;

    /// <summary>How long a node that does not answer (restarting, connection lost) is retried before the call fails.</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a pending transaction's receipt, and the head while waiting for confirmations, are asked for.</summary>
    public TimeSpan ReceiptPoll { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a submission waits for its confirmations before it gives up.</summary>
    public TimeSpan ConfirmationTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The option that breaks a rule, with the rule; null when all hold.</summary>
    public string? Validate() =>
        Confirmations is < 1 or > 1_000 ? $"confirmations: must be between 1 and 1000, got {Confirmations}"
        : RetryFor < TimeSpan.Zero ? "retry_for: must not be negative"
        : ReceiptPoll <= TimeSpan.Zero ? "receipt_poll: must be positive"
        : null;
}
