using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Hosting;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Console.Tests;

/// <summary>
/// A coordinator on loopback whose chain has stake to vote with (the console's key 100 tokens, another account 300),
/// a console acting with that key, a read-only one with the same key, one without a key, and a headless chromium for
/// the accessibility check. No task and no training: governance needs neither.
/// </summary>
public sealed class GovernanceNetwork : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-gov-").FullName;
    private IPlaywright? _playwright;

    public CoordinatorHost Coordinator { get; private set; } = null!;

    public ConsoleHost Acting { get; private set; } = null!;

    public ConsoleHost ReadOnly { get; private set; } = null!;

    public ConsoleHost Keyless { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Why there is no browser, when there is none (the browser test skips with it).</summary>
    public string? NoBrowser { get; private set; }

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("console-gov-" + name)));

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] names = ["coordinator", "console", "other"];
        var genesis = new Genesis(93, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Path.Combine(_dir, "coordinator") }, Key("coordinator"), genesis,
            NullLoggerFactory.Instance, ct);
        await SendAsync("console", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        await SendAsync("other", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(300) });

        Acting = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = Coordinator.ApiUri, Poll = TimeSpan.FromMilliseconds(200) }, Key("console"), NullLoggerFactory.Instance, ct);
        ReadOnly = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = Coordinator.ApiUri, ReadOnly = true, Poll = TimeSpan.FromMilliseconds(200) }, Key("console"),
            NullLoggerFactory.Instance, ct);
        Keyless = await ConsoleHost.StartAsync(new ConsoleOptions { Coordinator = Coordinator.ApiUri, Poll = TimeSpan.FromMilliseconds(200) }, null, NullLoggerFactory.Instance, ct);
        (_playwright, Browser, NoBrowser) = await BrowserSetup.LaunchAsync(ct);
    }

    /// <summary>Signs and submits <paramref name="who"/>'s next transaction on the coordinator's ledger, as `skein` would.</summary>
    public async Task<TxReceipt> SendAsync(string who, Func<Address, ulong, Transaction> build)
    {
        var ledger = Coordinator.Context.Ledger;
        var key = Key(who);
        var tx = build(key.Address, await ledger.GetNonceAsync(key.Address, TestContext.Current.CancellationToken));
        return await ledger.SubmitAsync(key.SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId }, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        foreach (var console in new[] { Acting, ReadOnly, Keyless })
        {
            if (console is not null)
            {
                await console.DisposeAsync();
            }
        }
        if (Coordinator is not null)
        {
            await Coordinator.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
