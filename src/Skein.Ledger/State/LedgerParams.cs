using Skein.Ledger.Governance;
using Skein.Ledger.Incentives;
using Skein.Ledger.Market;

namespace Skein.Ledger.State;

/// <summary>The chain's rules, set at genesis and changed since only by passed proposals: incentives, the unbonding period, the market's and governance's rules (defaults when absent).</summary>
public sealed record LedgerParams(IncentiveParams Incentives, ulong UnbondingBlocks, MarketParams? Market = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] GovernanceParams? Governance = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] LivenessParams? Liveness = null)
{
    /// <summary>The phase deadlines and abandonment period in force: <see cref="Liveness"/>, or <see cref="LivenessParams.Default"/> when the genesis has none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public LivenessParams LivenessRules => Liveness ?? LivenessParams.Default;

    /// <summary>The governance rules in force: <see cref="Governance"/>, or <see cref="GovernanceParams.Default"/> when the genesis has none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public GovernanceParams GovernanceRules => Governance ?? GovernanceParams.Default;

    /// <summary>The market's rules in force: <see cref="Market"/>, or <see cref="MarketParams.Default"/> when the genesis has none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public MarketParams MarketRules => Market ?? MarketParams.Default;

    /// <summary>The largest score a validator may give (parts per million).</summary>
    public const ulong MaxScore = 1_000_000;

    public static LedgerParams Default { get; } = new(IncentiveParams.Default, 100);

    public string? Validate() =>
        UnbondingBlocks is 0 or > 10_000_000 ? $"params.unbonding_blocks: must be in [1, 10000000], got {UnbondingBlocks}" : Incentives.Validate() ?? Market?.Validate() ?? Governance?.Validate() ?? Liveness?.Validate();
}

/// <summary>One genesis allocation: an account and its starting balance.</summary>
public sealed record GenesisAllocation(Address Address, UInt128 Balance);

/// <summary>Everything that fixes a chain's first state: its id, rules and allocations. Stored with the chain so anyone can replay it.</summary>
public sealed record Genesis(ulong ChainId, LedgerParams Params, IReadOnlyList<GenesisAllocation> Allocations, long Timestamp)
{
    public UInt128 Supply => Allocations.Aggregate(UInt128.Zero, (s, a) => checked(s + a.Balance));

    public string? Validate()
    {
        if (ChainId == 0)
        {
            return "genesis.chain_id: must be > 0";
        }
        if (Params.Validate() is { } error)
        {
            return error;
        }
        var seen = new HashSet<Address>();
        foreach (var a in Allocations)
        {
            if (!seen.Add(a.Address))
            {
                return $"genesis.allocations: {a.Address} appears twice";
            }
        }
        try
        {
            _ = Supply;
        }
        catch (OverflowException)
        {
            return "genesis.allocations: the total overflows 128 bits";
        }
        return null;
    }
}
