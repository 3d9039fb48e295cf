using System.CommandLine;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>`skein keys new|list|show`: secp256k1 keys in encrypted Web3 Secret Storage (v3) files.</summary>
public static class KeyCommands
{
    public static Command Build()
    {
        var keys = new Command("keys", "Your identities: secp256k1 keys with Ethereum addresses, stored encrypted (Web3 Secret Storage v3)");
        keys.Add(New());
        keys.Add(List());
        keys.Add(Show());
        return keys;
    }

    private static Command New()
    {
        var command = new Command("new", "Create a key; its password comes from --password-env (default SKEIN_KEY_PASSWORD) or a prompt");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true, evm: false);
        var name = new Argument<string>("name") { Description = "A name for the key (letters, digits, - and _)" };
        command.Add(name);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var keyName = parse.GetValue(name)!;
            var password = o.Password(parse, keyName);
            var (key, path) = o.Keys(parse).Create(keyName, password);
            await Task.CompletedTask;
            return await LedgerOptions.WriteAsync(parse, o, new { name = keyName, address = key.Address, path },
                c => c.MarkupLine($"Key [bold]{Markup.Escape(keyName)}[/]: {key.Address}\nStored encrypted in {Markup.Escape(path)}; keep the password: it cannot be recovered."));
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the keys in the key folder (addresses only; nothing is decrypted)");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true, evm: false);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var keys = o.Keys(parse).List();
            await Task.CompletedTask;
            return await LedgerOptions.WriteAsync(parse, o, new { keys = keys.Select(k => new { name = k.Name, address = k.Address, path = k.Path }) }, c =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "address");
                foreach (var k in keys)
                {
                    table.AddRow(Markup.Escape(k.Name), k.Address.ToString());
                }
                c.Write(table);
            });
        }));
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "Show a key's address and file");
        var o = new LedgerOptions();
        o.AddTo(command, keys: true, evm: false);
        var name = new Argument<string>("name") { Description = "Key name" };
        command.Add(name);
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var keyName = parse.GetValue(name)!;
            var match = o.Keys(parse).List().FirstOrDefault(k => k.Name == keyName);
            if (match.Name is null)
            {
                throw new ArgumentException($"name: no key '{keyName}' in the key folder");
            }
            await Task.CompletedTask;
            return await LedgerOptions.WriteAsync(parse, o, new { name = match.Name, address = match.Address, path = match.Path },
                c => c.MarkupLine($"{Markup.Escape(match.Name)}: {match.Address} ({Markup.Escape(match.Path)})"));
        }));
        return command;
    }
}
