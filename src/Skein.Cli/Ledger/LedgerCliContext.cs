using System.CommandLine;
using System.Text.Json;
using Skein.Core.Json;
using Skein.Learning.Data;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;
using Spectre.Console;

namespace Skein.Cli.Ledger;

/// <summary>Options shared by every ledger command: where the chain and the keys live, how to unlock a key, --json.</summary>
public sealed class LedgerOptions
{
    public Option<string?> Ledger { get; } = new("--ledger") { Description = "The chain database (default: <data-dir>/ledger/chain.db)", HelpName = "file" };

    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Per-user data folder (default: $SKEIN_DATA_DIR or the local application data folder)", HelpName = "folder" };

    public Option<string?> KeysDir { get; } = new("--keys-dir") { Description = "Key files folder (default: <data-dir>/keys)", HelpName = "folder" };

    public Option<string> PasswordEnv { get; } = new("--password-env")
    {
        Description = "Environment variable holding the key password (else you are prompted)",
        DefaultValueFactory = _ => "SKEIN_KEY_PASSWORD",
        HelpName = "name",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print exactly one JSON object on stdout" };

    public void AddTo(Command command, bool keys = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Ledger);
        command.Add(DataDir);
        command.Add(Json);
        if (keys)
        {
            command.Add(KeysDir);
            command.Add(PasswordEnv);
        }
    }

    public string DataDirectory(ParseResult parse) => parse.GetValue(DataDir) ?? MnistStore.DefaultDataDirectory();

    public string LedgerPath(ParseResult parse) => parse.GetValue(Ledger) ?? Path.Combine(DataDirectory(parse), "ledger", "chain.db");

    public KeyStore Keys(ParseResult parse) => new(parse.GetValue(KeysDir) ?? Path.Combine(DataDirectory(parse), "keys"));

    public Task<EmbeddedLedger> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = LedgerPath(parse);
        if (!File.Exists(path))
        {
            throw new LedgerException(LedgerError.InvalidGenesis, $"--ledger: no chain at {path}; create one with `skein ledger init`");
        }
        return EmbeddedLedger.OpenAsync(path, cancellationToken: cancellationToken);
    }

    /// <summary>The password of a key: from the environment variable named by --password-env, else a hidden prompt.</summary>
    public string Password(ParseResult parse, string keyName)
    {
        var variable = parse.GetValue(PasswordEnv)!;
        var fromEnv = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }
        if (System.Console.IsInputRedirected)
        {
            throw new ArgumentException($"--password-env: set {variable} to the password of key '{keyName}' (no terminal to prompt on)");
        }
        return AnsiConsole.Prompt(new TextPrompt<string>($"Password for key [bold]{Markup.Escape(keyName)}[/]:").Secret());
    }

    /// <summary>An address as typed, or the address of a named key.</summary>
    public Address ResolveAccount(ParseResult parse, string nameOrAddress, string field)
    {
        ArgumentNullException.ThrowIfNull(nameOrAddress);
        if (nameOrAddress.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return Address.Parse(nameOrAddress, field);
        }
        var match = Keys(parse).List().FirstOrDefault(k => k.Name == nameOrAddress);
        return match.Name is null ? throw new ArgumentException($"{field}: '{nameOrAddress}' is neither an address nor the name of a key") : match.Address;
    }

    /// <summary>Unlocks the key, builds its next transaction with <paramref name="build"/>, signs it and submits it.</summary>
    public async Task<(TxReceipt Receipt, SignedTransaction Signed)> SendAsync(ParseResult parse, EmbeddedLedger ledger, string keyName,
        Func<Address, ulong, Transaction> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(build);
        var key = Keys(parse).Unlock(keyName, Password(parse, keyName));
        var nonce = await ledger.GetNonceAsync(key.Address, cancellationToken);
        var signed = key.SignTransaction(build(key.Address, nonce), ledger.ChainId) with { ChainId = ledger.ChainId };
        return (await ledger.SubmitAsync(signed, cancellationToken), signed);
    }

    public static async Task<int> WriteAsync(ParseResult parse, LedgerOptions options, object json, Action<IAnsiConsole> human)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(human);
        var stdout = parse.InvocationConfiguration.Output;
        if (parse.GetValue(options.Json))
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(json, CliJson.Options));
        }
        else
        {
            human(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) }));
        }
        return ExitCodes.Ok;
    }

    /// <summary>Runs a ledger command body, turning refusals and bad input into one clear error line and exit code 2.</summary>
    public static async Task<int> GuardAsync(ParseResult parse, Func<Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return await body();
        }
        catch (LedgerException ex)
        {
            return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [$"{ex.Code}: {ex.Message}"]);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyStoreException or FileNotFoundException or HttpRequestException)
        {
            return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [ex.Message]);
        }
    }
}

/// <summary>JSON settings for CLI output: snake_case, amounts as exact decimal strings of base units, addresses checksummed.</summary>
public static class CliJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(SignedTransaction.JsonOptions) { WriteIndented = true, UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip };
        return o.WithNonFiniteAsNull();
    }
}
