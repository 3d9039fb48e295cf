using CsCheck;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

public sealed class SupplyPropertyTests
{
    private static readonly string[] Names = ["a", "b", "c", "d", "e"];

    /// <summary>One random operation: what, by whom, towards whom, how much (whole tokens, often more than anyone has).</summary>
    private static readonly Gen<(int Kind, int Actor, int Other, int Amount)> Op =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 4], Gen.Int[0, 4], Gen.Int[0, 1_200]);

    private static Transaction Build(int kind, Address from, ulong nonce, Address other, UInt128 amount, Role role) => kind switch
    {
        0 => new Transfer { From = from, Nonce = nonce, To = other, Amount = amount },
        1 => new Stake { From = from, Nonce = nonce, Role = role, Amount = amount },
        2 => new Unstake { From = from, Nonce = nonce, Role = role, Amount = amount },
        3 => new DelegateStake { From = from, Nonce = nonce, Operator = other, Role = role, Amount = amount },
        4 => new UndelegateStake { From = from, Nonce = nonce, Operator = other, Role = role, Amount = amount },
        5 => new SetCommission { From = from, Nonce = nonce, CommissionBps = (uint)(amount % 12_000) },
        6 => TestRound.Task(from, nonce, pool: (ulong)(amount / Tokens.One) + 1),
        _ => new Transfer { From = from, Nonce = nonce, To = other, Amount = amount / 7 },
    };

    [Fact]
    public void Supply_is_conserved_and_no_balance_wraps_for_any_sequence()
    {
        Op.Array[1, 60].Sample(ops =>
        {
            var c = new TestChain(Names);
            var supply = c.State.GenesisSupply;
            foreach (var (kind, actor, other, amount) in ops)
            {
                if (kind == 9)
                {
                    c.NextBlock();
                }
                else
                {
                    var role = amount % 2 == 0 ? Role.Trainer : Role.Validator;
                    try
                    {
                        c.Do(Names[actor], (f, n) => Build(kind, f, n, c[Names[other]], Tokens.Whole((ulong)amount), role));
                    }
                    catch (LedgerException)
                    {
                        // refusals are part of the property: they must leave supply intact too
                    }
                }
                if (!c.State.SupplyIsConserved() || c.State.Accounts.Values.Any(a => a.Balance > supply))
                {
                    return false;
                }
            }
            return true;
        }, iter: 200);
    }

    [Fact]
    public void A_refused_transaction_never_changes_the_state_root()
    {
        Op.Array[1, 30].Sample(ops =>
        {
            var c = new TestChain(Names);
            foreach (var (kind, actor, other, amount) in ops)
            {
                var before = StateHasher.Root(c.State);
                try
                {
                    c.Do(Names[actor], (f, n) => Build(kind % 9, f, n, c[Names[other]], Tokens.Whole((ulong)amount * 3), Role.Trainer));
                }
                catch (LedgerException)
                {
                    if (StateHasher.Root(c.State) != before)
                    {
                        return false;
                    }
                }
            }
            return true;
        }, iter: 100);
    }
}
