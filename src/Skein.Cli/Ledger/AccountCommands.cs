using System.CommandLine;
using Skein.Ledger;
using Skein.Ledger.Transactions;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>`skein balance`, `skein transfer`, `skein stake`, `skein unstake`, `skein delegate`, `skein undelegate`.</summary>
public static class AccountCommands
{
    public static IEnumerable<Command> Build()
    {
        yield return Balance();
        yield return Transfer();
        yield return StakeCommand("stake", "Stake tokens in a role (trainer or validator)", (from, nonce, role, amount) =>
            new Stake { From = from, Nonce = nonce, Role = role, Amount = amount });
        yield return StakeCommand("unstake", "Start unbonding own stake; it returns to the balance after the unbonding period", (from, nonce, role, amount) =>
            new Unstake { From = from, Nonce = nonce, Role = role, Amount = amount });
        yield return DelegateCommand("delegate", "Delegate tokens to an operator's role stake: share its rewards (after commission) and its slashes", undo: false);
        yield return DelegateCommand("undelegate", "Start unbonding a delegation", undo: true);
    }

    private static Command Balance()
    {
        var command = new Command("balance", "Balance, stakes and nonce of an account");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var account = new Argument<string>("account") { Description = "An address or a key name" };
        command.Add(account);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var address = o.ResolveAccount(parse, parse.GetValue(account)!, "account");
            await using var ledger = await o.OpenAsync(parse, ct);
            var balance = await ledger.GetBalanceAsync(address, ct);
            var trainer = await ledger.GetStakeAsync(address, Role.Trainer, ct);
            var validator = await ledger.GetStakeAsync(address, Role.Validator, ct);
            var nonce = await ledger.GetNonceAsync(address, ct);
            return await LedgerOptions.WriteAsync(parse, o, new
            {
                address,
                balance,
                nonce,
                trainer_stake = new { self = trainer.Self, delegated = trainer.Delegated },
                validator_stake = new { self = validator.Self, delegated = validator.Delegated },
                commission_bps = trainer.CommissionBps,
            }, c => c.MarkupLine($"{address}: [bold]{Tokens.Format(balance)} {Tokens.Symbol}[/]; trainer stake {Tokens.Format(trainer.Self)} (+{Tokens.Format(trainer.Delegated)} delegated), validator stake {Tokens.Format(validator.Self)} (+{Tokens.Format(validator.Delegated)} delegated); next nonce {nonce}"));
        }));
        return command;
    }

    private static Command Transfer()
    {
        var command = new Command("transfer", "Send tokens to another account");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = KeyOption();
        var to = new Option<string>("--to") { Description = "Recipient: an address or a key name", Required = true };
        var amount = AmountOption();
        command.Add(key);
        command.Add(to);
        command.Add(amount);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var recipient = o.ResolveAccount(parse, parse.GetValue(to)!, "--to");
            var value = Tokens.Parse(parse.GetValue(amount)!, "--amount");
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, _) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => new Transfer { From = from, Nonce = nonce, To = recipient, Amount = value }, ct);
            return await Receipt(parse, o, receipt, $"sent {Tokens.Format(value)} {Tokens.Symbol} to {recipient}");
        }));
        return command;
    }

    private static Command StakeCommand(string name, string description, Func<Address, ulong, Role, UInt128, Transaction> build)
    {
        var command = new Command(name, description);
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = KeyOption();
        var role = RoleOption();
        var amount = AmountOption();
        command.Add(key);
        command.Add(role);
        command.Add(amount);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var r = ParseRole(parse.GetValue(role)!);
            var value = Tokens.Parse(parse.GetValue(amount)!, "--amount");
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, signed) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => build(from, nonce, r, value), ct);
            return await Receipt(parse, o, receipt, $"{name}: {Tokens.Format(value)} {Tokens.Symbol} as {r.ToString().ToLowerInvariant()} for {signed.Tx.From}");
        }));
        return command;
    }

    private static Command DelegateCommand(string name, string description, bool undo)
    {
        var command = new Command(name, description);
        var o = new LedgerOptions();
        o.AddTo(command, keys: true);
        var key = KeyOption();
        var to = new Option<string>("--to") { Description = "The operator: an address or a key name", Required = true };
        var role = RoleOption();
        var amount = AmountOption();
        command.Add(key);
        command.Add(to);
        command.Add(role);
        command.Add(amount);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var operatorAddress = o.ResolveAccount(parse, parse.GetValue(to)!, "--to");
            var r = ParseRole(parse.GetValue(role)!);
            var value = Tokens.Parse(parse.GetValue(amount)!, "--amount");
            await using var ledger = await o.OpenAsync(parse, ct);
            var (receipt, _) = await o.SendAsync(parse, ledger, parse.GetValue(key)!, (from, nonce) => undo
                ? new UndelegateStake { From = from, Nonce = nonce, Operator = operatorAddress, Role = r, Amount = value }
                : new DelegateStake { From = from, Nonce = nonce, Operator = operatorAddress, Role = r, Amount = value }, ct);
            return await Receipt(parse, o, receipt, $"{name}: {Tokens.Format(value)} {Tokens.Symbol} to {operatorAddress} as {r.ToString().ToLowerInvariant()}");
        }));
        return command;
    }

    internal static Option<string> KeyOption() => new("--key") { Description = "The signing key: a key name or address in the key folder", Required = true, HelpName = "name" };

    private static Option<string> AmountOption() => new("--amount") { Description = "Tokens, e.g. 10 or 2.5", Required = true, HelpName = "tokens" };

    private static Option<string> RoleOption() => new("--role") { Description = "trainer or validator", Required = true, HelpName = "role" };

    internal static Role ParseRole(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trainer" => Role.Trainer,
        "validator" => Role.Validator,
        _ => throw new ArgumentException($"--role: must be trainer or validator; got '{text}'"),
    };

    internal static Task<int> Receipt(ParseResult parse, LedgerOptions o, TxReceipt receipt, string what) =>
        LedgerOptions.WriteAsync(parse, o, new { id = receipt.Id, block = receipt.BlockHeight, index = receipt.Index },
            c => c.MarkupLine($"{Markup.Escape(what)}: transaction {receipt.Id} in block {receipt.BlockHeight}"));
}
