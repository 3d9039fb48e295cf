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

    public Option<string?> Rpc { get; } = new("--rpc") { Description = "Use the ledger on an EVM chain through this JSON-RPC URL instead of the embedded chain (with --contract)", HelpName = "url" };

    public Option<string?> Contract { get; } = new("--contract") { Description = "With --rpc: the SkeinLedger contract (skein ledger deploy-contracts prints it)", HelpName = "address" };

    public void AddTo(Command command, bool keys = false, bool evm = true)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Ledger);
        command.Add(DataDir);
        command.Add(Json);
        if (evm)
        {
            command.Add(Rpc);
            command.Add(Contract);
        }
        if (keys)
        {
            command.Add(KeysDir);
            command.Add(PasswordEnv);
        }
    }

    public string DataDirectory(ParseResult parse) => parse.GetValue(DataDir) ?? MnistStore.DefaultDataDirectory();

    public string LedgerPath(ParseResult parse) => parse.GetValue(Ledger) ?? Path.Combine(DataDirectory(parse), "ledger", "chain.db");

    public KeyStore Keys(ParseResult parse) => new(parse.GetValue(KeysDir) ?? Path.Combine(DataDirectory(parse), "keys"));

    /// <summary>The ledger the options name: the contracts on an EVM chain with --rpc (read through that node), else the embedded chain file.</summary>
    public async Task<ILedger> OpenAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (EvmTarget(parse) is { } evm)
        {
            return await EvmAsync(() => Skein.Ledger.Evm.EvmLedger.ReadAsync(evm.Rpc, evm.Contract, cancellationToken: cancellationToken));
        }
        return await OpenEmbeddedAsync(parse, cancellationToken);
    }

    /// <summary>The EVM chain and contract of --rpc and --contract; null when --rpc is not given.</summary>
    public (Uri Rpc, string Contract)? EvmTarget(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.GetValue(Rpc) is not { } text)
        {
            return parse.GetValue(Contract) is null ? null : throw new ArgumentException("--contract: only with --rpc");
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var rpc) || rpc.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--rpc: must be an http(s) URL, got '{text}'");
        }
        if (parse.GetValue(Ledger) is not null)
        {
            throw new ArgumentException("--ledger: names an embedded chain file; with --rpc the ledger is the contract on that chain");
        }
        return (rpc, parse.GetValue(Contract) ?? throw new ArgumentException("--contract: required with --rpc (the SkeinLedger address skein ledger deploy-contracts printed)"));
    }

    /// <summary>Opens an EVM ledger, naming the option at fault when the node or the contract is wrong.</summary>
    private static async Task<Skein.Ledger.Evm.EvmLedger> EvmAsync(Func<Task<Skein.Ledger.Evm.EvmLedger>> open)
    {
        try
        {
            return await open();
        }
        catch (ArgumentException ex) when (ex.Message.StartsWith("contract:", StringComparison.Ordinal) || ex.Message.StartsWith("rpc:", StringComparison.Ordinal))
        {
            throw new ArgumentException("--" + ex.Message, ex);
        }
    }

    public Task<EmbeddedLedger> OpenEmbeddedAsync(ParseResult parse, CancellationToken cancellationToken)
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
    /// <remarks>On an EVM chain the key's own address relays the transaction (one key, one address): it pays the gas.</remarks>
    public async Task<(TxReceipt Receipt, SignedTransaction Signed)> SendAsync(ParseResult parse, ILedger ledger, string keyName,
        Func<Address, ulong, Transaction> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(build);
        using var key = Keys(parse).Unlock(keyName, Password(parse, keyName));
        var nonce = await ledger.GetNonceAsync(key.Address, cancellationToken);
        var signed = key.SignTransaction(build(key.Address, nonce), ledger.ChainId) with { ChainId = ledger.ChainId };
        if (ledger is Skein.Ledger.Evm.EvmLedger { Relayer: null } && EvmTarget(parse) is { } evm)
        {
            await using var relay = await EvmAsync(() => Skein.Ledger.Evm.EvmLedger.AttachAsync(evm.Rpc, key, evm.Contract, cancellationToken: cancellationToken));
            return (await relay.SubmitAsync(signed, cancellationToken), signed);
        }
        // A chain file has one writer: refused, naming it, while a coordinator holds it.
        using var chainLock = ledger is EmbeddedLedger embedded ? ChainLock.Acquire(embedded.Path) : null;
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
