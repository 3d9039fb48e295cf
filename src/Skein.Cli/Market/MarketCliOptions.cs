using System.CommandLine;
using Skein.Cli.Ledger;
using Skein.Ledger.Crypto;
using Skein.Market.Api;

namespace Skein.Cli.Market;

/// <summary>What the market commands share: the market's URL, the key that signs, and --json.</summary>
public sealed class MarketCliOptions
{
    public Option<string?> Market { get; } = new("--market")
    {
        Description = "The market's URL: the `api` URL a coordinator prints (default: $SKEIN_MARKET)",
        HelpName = "url",
    };

    public Option<string> Key { get; } = new("--key")
    {
        Description = "The key that signs: a key name (skein keys new) or a key file",
        Required = true,
        HelpName = "name|file",
    };

    public LedgerOptions Ledger { get; } = new();

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Market);
        command.Add(Key);
        // The key store's options, not the local chain's: the market's ledger is the one behind --market.
        command.Add(Ledger.DataDir);
        command.Add(Ledger.KeysDir);
        command.Add(Ledger.PasswordEnv);
        command.Add(Ledger.Json);
    }

    public Uri MarketUri(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var text = parse.GetValue(Market) ?? Environment.GetEnvironmentVariable("SKEIN_MARKET")
            ?? throw new ArgumentException("--market: give the market's URL (the `api` URL the coordinator prints), or set SKEIN_MARKET");
        return Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"--market: must be an http(s) URL, got '{text}'");
    }

    public Task<MarketApiClient> ConnectAsync(ParseResult parse, CancellationToken cancellationToken) =>
        MarketApiClient.ConnectAsync(MarketUri(parse), cancellationToken: cancellationToken);

    /// <summary>The key named by --key: a key file if that path exists, else a key of the key store; its password from --password-env or a prompt.</summary>
    public LedgerKey Unlock(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var name = parse.GetValue(Key)!;
        if (File.Exists(name))
        {
            return KeyFile.Decrypt(File.ReadAllText(name), Ledger.Password(parse, name), Path.GetFileNameWithoutExtension(name));
        }
        return Ledger.Keys(parse).Unlock(name, Ledger.Password(parse, name));
    }
}
