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
            var purpose = tx switch { Stake => "stake", DelegateStake => "delegation", _ => "transfer" };
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
                _ => $"stake: {tx.From} has {Tokens.Format(Units(e.Available))}, needs {Tokens.Format(Units(e.Needed))}",
            });
        }
        if (revert.IsCustomErrorFor<InvalidParameterError>())
        {
            var e = revert.DecodeError<InvalidParameterError>();
            return new LedgerException(LedgerError.InvalidParameter, e.Field == "commission_bps" && tx is SetCommission c
                ? $"commission_bps: must be <= 10000, got {c.CommissionBps}"
                : $"{e.Field}: {e.Rule}");
        }
        return new LedgerException(LedgerError.InvalidParameter, $"{tx.TypeName}: the contract refused it ({revert.ExceptionEncodedData})");
    }

    private static UInt128 Units(BigInteger value) => (UInt128)value;
}
