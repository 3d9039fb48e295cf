using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;
using Skein.Market;

namespace Skein.Console.Data;

/// <summary>The outcome of an action: whether the ledger took it, and what to tell the person (its refusal, word for word).</summary>
public sealed record ActionResult(bool Ok, string Message);

/// <summary>
/// What the console does with its key (the one it was started with; its password never leaves the terminal): stake,
/// unstake, delegate, create tasks, deploy nodes, propose and vote. Without a key, or read-only, it does nothing and pages show no action.
/// </summary>
public sealed partial class ConsoleActions(ConsoleData data, LedgerKey? key) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private MarketSigner? _signer;

    public bool CanAct => key is not null && !data.Options.ReadOnly;

    /// <summary>Tasks can be created with the console's key, or hosted by the coordinator the console runs in.</summary>
    public bool CanCreateTasks => !data.Options.ReadOnly && (key is not null || data.Options.HostTask is not null);

    public Address? Address => key?.Address;

    internal LedgerKey Key => CanAct ? key! : throw new InvalidOperationException("this console has no key, or is read-only");

    /// <summary>
    /// The console's key when it owns <paramref name="owner"/>'s deployments, to sign a request for their logs. Reading
    /// logs is not an action (it changes nothing, and the proof is good for that one request), so a read-only console
    /// with a key may read its own deployments' logs too.
    /// </summary>
    internal LedgerKey? TenantKey(Skein.Ledger.Address owner) => key is { } k && k.Address == owner ? k : null;

    public async Task<ActionResult> SendAsync(Func<Address, ulong, Transaction> build, string done, CancellationToken ct)
    {
        if (!CanAct)
        {
            return new ActionResult(false, "this console is read-only");
        }
        try
        {
            var signer = await SignerAsync(ct);
            var receipt = await signer.SendAsync(build, ct);
            return new ActionResult(true, $"{done} (block {receipt.BlockHeight})");
        }
        catch (LedgerException ex)
        {
            return new ActionResult(false, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return new ActionResult(false, $"the ledger did not answer: {ex.Message}");
        }
    }

    public Task<ActionResult> StakeAsync(Role role, string amount, bool unstake, CancellationToken ct) => Parse(amount, out var units, out var error)
        ? SendAsync((f, n) => unstake ? new Unstake { From = f, Nonce = n, Role = role, Amount = units } : new Stake { From = f, Nonce = n, Role = role, Amount = units },
            $"{(unstake ? "unstaked" : "staked")} {amount} as {role.ToString().ToLowerInvariant()}", ct)
        : Task.FromResult(error);

    public Task<ActionResult> DelegateAsync(string operatorText, Role role, string amount, bool undelegate, CancellationToken ct)
    {
        if (!Skein.Ledger.Address.TryParse(operatorText, out var op, out var why))
        {
            return Task.FromResult(new ActionResult(false, $"operator: {why}"));
        }
        return Parse(amount, out var units, out var error)
            ? SendAsync((f, n) => undelegate
                    ? new UndelegateStake { From = f, Nonce = n, Operator = op, Role = role, Amount = units }
                    : new DelegateStake { From = f, Nonce = n, Operator = op, Role = role, Amount = units },
                $"{(undelegate ? "undelegated" : "delegated")} {amount} to {op} as {role.ToString().ToLowerInvariant()}", ct)
            : Task.FromResult(error);
    }

    /// <summary>
    /// Publishes a task from a checked spec: hosted by the coordinator the console runs in (which escrows the pool and
    /// runs the rounds), or recorded on the ledger with the console's key (which escrows the pool from its balance).
    /// </summary>
    public async Task<(ActionResult Result, ulong? TaskId)> CreateTaskAsync(TaskSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!CanCreateTasks)
        {
            return (new ActionResult(false, "this console is read-only"), null);
        }
        var hash = spec.Sha256();
        var json = System.Text.Json.JsonSerializer.Serialize(spec, TaskSpec.JsonOptions);
        if (data.Options.HostTask is { } host)
        {
            try
            {
                var id = await host(json, ct);
                return (new ActionResult(true, $"task {id} '{spec.Name}' created and hosted by this coordinator (spec 0x{hash}); its rounds start as nodes join"), id);
            }
            catch (Exception ex) when (ex is LedgerException or FormatException or ArgumentException)
            {
                return (new ActionResult(false, ex.Message), null);
            }
        }
        var result = await SendAsync((f, n) => TaskCreation.For(spec, f, n), $"task '{spec.Name}' recorded on the ledger with spec hash 0x{hash}; {spec.RewardPool} {Tokens.Symbol} escrowed", ct);
        if (!result.Ok)
        {
            return (result, null);
        }
        var created = (await data.RefreshTasksAsync(ct)).LastOrDefault(t => t.SpecHash == "0x" + hash && t.Creator == Key.Address.ToString());
        return (result with { Message = created is null ? result.Message : $"task {created.Id}: {result.Message}" }, created?.Id);
    }

    internal async Task<MarketSigner> SignerAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _signer ??= new MarketSigner(await data.MarketAsync(ct), Key);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool Parse(string amount, out UInt128 units, out ActionResult error, string field = "amount")
    {
        try
        {
            units = Tokens.Parse(amount, field);
            error = new ActionResult(true, "");
            return units > 0 || Fail(out error, $"{field}: must be > 0");
        }
        catch (FormatException ex)
        {
            units = 0;
            error = new ActionResult(false, ex.Message);
            return false;
        }
    }

    private static bool Fail(out ActionResult error, string message)
    {
        error = new ActionResult(false, message);
        return false;
    }

    public void Dispose()
    {
        _signer?.Dispose();
        _gate.Dispose();
    }
}
