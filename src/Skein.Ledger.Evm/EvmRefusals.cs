using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm;

/// <summary>The contract's custom errors, as the embedded ledger words the same refusals (code and message).</summary>
internal static class EvmRefusals
{
    public static LedgerException Decode(SmartContractCustomErrorRevertException revert, Transaction tx, ulong chainId)
    {
        if (revert.IsCustomErrorFor<BadSignatureError>())
        {
            return new LedgerException(LedgerError.BadSignature,
                $"signature: does not prove that {tx.From} signed this {tx.TypeName} for chain {chainId} (forged, altered, or signed for another chain)");
        }
        if (revert.IsCustomErrorFor<BadNonceError>())
        {
            var e = revert.DecodeError<BadNonceError>();
            return new LedgerException(LedgerError.BadNonce, e.Nonce < e.Expected
                ? $"nonce: {e.Nonce} was already used by {tx.From} (replayed transaction); the next nonce is {e.Expected}"
                : $"nonce: {e.Nonce} is ahead of {tx.From}'s next nonce {e.Expected}");
        }
        if (revert.IsCustomErrorFor<InvalidAmountError>())
        {
            return new LedgerException(LedgerError.InvalidAmount, $"{revert.DecodeError<InvalidAmountError>().Field}: must be > 0");
        }
        if (revert.IsCustomErrorFor<InsufficientBalanceError>())
        {
            var e = revert.DecodeError<InsufficientBalanceError>();
            var purpose = tx switch { Stake => "stake", DelegateStake => "delegation", CreateTask => "the reward pool escrow", _ => "transfer" };
            return new LedgerException(LedgerError.InsufficientBalance,
                $"balance: {tx.From} has {Tokens.Format(Units(e.Available))} {Tokens.Symbol}, {purpose} needs {Tokens.Format(Units(e.Needed))}");
        }
        if (revert.IsCustomErrorFor<InsufficientStakeError>())
        {
            var e = revert.DecodeError<InsufficientStakeError>();
            return new LedgerException(LedgerError.InsufficientStake, tx switch
            {
                Unstake u => $"amount: {Tokens.Format(u.Amount)} exceeds {u.From}'s own {u.Role} stake of {Tokens.Format(Units(e.Available))}",
                UndelegateStake d => $"amount: {Tokens.Format(d.Amount)} exceeds the {Tokens.Format(Units(e.Available))} {d.From} delegated to {d.Operator} as {d.Role}",
                JoinTask j => $"stake: task {j.TaskId} requires a {j.Role} stake of {Tokens.Format(Units(e.Needed))}; {j.From} has {Tokens.Format(Units(e.Available))}",
                _ => $"stake: {tx.From} has {Tokens.Format(Units(e.Available))}, needs {Tokens.Format(Units(e.Needed))}",
            });
        }
        if (revert.IsCustomErrorFor<InvalidParameterError>())
        {
            var e = revert.DecodeError<InvalidParameterError>();
            // The embedded ledger names the value it refused; the contract names the field, the transaction has the value.
            return new LedgerException(LedgerError.InvalidParameter, (e.Field, tx) switch
            {
                ("commission_bps", SetCommission c) => $"commission_bps: {e.Rule}, got {c.CommissionBps}",
                ("rounds", CreateTask c) => $"rounds: {e.Rule}, got {c.Rounds}",
                ("trainers_per_round", CreateTask c) => $"trainers_per_round: {e.Rule}, got {c.TrainersPerRound}",
                ("validators_per_round", CreateTask c) => $"validators_per_round: {e.Rule}, got {c.ValidatorsPerRound}",
                ("reject_below", CreateTask c) => $"reject_below: {e.Rule}, got {c.RejectBelow}",
                _ => $"{e.Field}: {e.Rule}",
            });
        }
        if (revert.IsCustomErrorFor<UnknownTaskError>())
        {
            return new LedgerException(LedgerError.UnknownTask, $"task_id: no task {revert.DecodeError<UnknownTaskError>().TaskId} on this ledger");
        }
        if (revert.IsCustomErrorFor<TaskCompletedError>())
        {
            var e = revert.DecodeError<TaskCompletedError>();
            return new LedgerException(LedgerError.TaskCompleted, $"task_id: task {e.TaskId} has completed all {e.Rounds} rounds");
        }
        return new LedgerException(LedgerError.InvalidParameter, $"{tx.TypeName}: the contract refused it ({revert.ExceptionEncodedData})");
    }

    private static UInt128 Units(BigInteger value) => (UInt128)value;
}
