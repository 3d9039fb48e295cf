using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Skein.Console.Components;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;

namespace Skein.Console.Data;

/// <summary>
/// The deploys the console runs for the deploy form, each in the background, with `skein deploy`'s flow: the node's
/// own key (made here, sent only in the manifest), its stake sent from the console's key, then <see cref="DeployFlow"/>
/// from the deployment to a running lease, and then the wait for the node to join its task. Every step is published
/// as a "job" event, so the job's page follows it live.
/// </summary>
/// <remarks>
/// Jobs live in memory only: a restarted console forgets them, but not what they did. The deployment, its leases
/// and the node's stake are on the ledger, and the market page shows them after a restart as before.
/// </remarks>
public sealed partial class DeployJobs(ConsoleData data, ConsoleActions actions, ConsoleEvents events, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    // A node stakes and joins when it starts, within seconds; after this long the page stops waiting and says so.
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromMinutes(10);

    // How many finished jobs the console remembers (their deployments stay on the ledger either way).
    private const int Kept = 200;

    private readonly ConcurrentDictionary<string, DeployJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _dseqGate = new();
    private ulong _lastDseq;

    /// <summary>How often a job looks at the ledger and the coordinator while it waits (bids, the lease, the node joining).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Every remembered job, newest first.</summary>
    public IReadOnlyList<DeployJob> All => [.. _jobs.Values.OrderByDescending(j => j.Started).ThenBy(j => j.Id, StringComparer.Ordinal)];

    public DeployJob? Find(string id) => _jobs.GetValueOrDefault(id);

    /// <summary>Starts a checked deploy and returns its job at once; only a console that can act may (pages show no form otherwise).</summary>
    public DeployJob Start(DeployRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = actions.Key;
        var job = new DeployJob(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), request, new DeploymentId(key.Address, NextDseq()), time.GetUtcNow());
        _jobs[job.Id] = job;
        Forget();
        Step(job, "start", $"deploying {request.Template.Name} as deployment {job.Deployment.Dseq} of {key.Address}");
        _running[job.Id] = Task.Run(() => RunAsync(job, _stopping.Token), CancellationToken.None);
        return job;
    }

    /// <summary>The deployment's sequence number, chosen here so the page can follow the ledger before the flow reports: the time in ms, never the same twice.</summary>
    private ulong NextDseq()
    {
        lock (_dseqGate)
        {
            _lastDseq = Math.Max(_lastDseq + 1, (ulong)time.GetUtcNow().ToUnixTimeMilliseconds());
            return _lastDseq;
        }
    }

    private async Task RunAsync(DeployJob job, CancellationToken ct)
    {
        var request = job.Request;
        LedgerKey? node = null;
        var funded = false;
        try
        {
            var market = await data.MarketAsync(ct);
            var rules = (await market.GetMarketStatusAsync(ct)).Params;
            node = LedgerKey.Generate();
            var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            // Scrypt takes about a second at the standard strength: off the request, in the job.
            var keyJson = KeyFile.Encrypt(node, password, data.Options.NodeKeyStrength);
            job.Node = node.Address;
            Step(job, "key", $"made the node's key {node.Address}; it and its password go only into the manifest, to the provider that wins the lease");

            var sets = new Dictionary<string, string>(request.Sets, StringComparer.Ordinal) { ["SKEIN_KEY_JSON"] = keyJson, ["SKEIN_KEY_PASSWORD"] = password };
            var source = DeploySource.Load(DeployChecks.TemplatePath(data, request.Template), sets, data.Options.TemplatesRoot);
            if (!source.Ok)
            {
                Fail(job, string.Join("; ", source.Errors.Select(e => e.Replace(keyJson, "***", StringComparison.Ordinal).Replace(password, "***", StringComparison.Ordinal))));
                return;
            }
            if (request.Stake > 0)
            {
                var sent = await actions.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = node.Address, Amount = request.Stake },
                    $"sent {MarketFmt.Tokens(request.Stake)} to the node's key for its stake", ct);
                if (!sent.Ok)
                {
                    Fail(job, $"funding the node's stake: {sent.Message}");
                    return;
                }
                funded = true;
                Step(job, "fund", sent.Message);
            }

            var outcome = await DeployAsync(job, source.Plan!, rules, ct);
            job.Outcome = outcome;
            if (outcome.NoBids.Count > 0)
            {
                foreach (var report in outcome.NoBids)
                {
                    Step(job, "no-bid", $"no bid for group {report.Group}: {report.Summary}");
                }
                Step(job, "close", "the deployment was closed and its deposit returned");
                job.Error = outcome.Error;
                Advance(job, DeployJobState.NoBid);
                await RefundAsync(job, node, market, ct);
                return;
            }
            if (!outcome.Ok)
            {
                Fail(job, outcome.Error ?? "the deploy did not finish");
                return;
            }
            foreach (var lease in outcome.Leases)
            {
                var services = string.Join(", ", lease.Services.Select(s => $"{s.Service}[{s.Instance}] {s.State}"));
                Step(job, "running", $"group {lease.Group} is running on provider {lease.Lease.Provider} at {MarketFmt.Denom(rules, lease.PricePerBlock)}/block " +
                    $"({MarketFmt.PerHour(rules, lease.PricePerBlock)}): {services}");
            }
            var escrow = (await market.GetDeploymentAsync(job.Deployment, ct))?.Escrow;
            Step(job, "escrow", $"escrow {MarketFmt.Tokens(escrow?.Balance ?? 0)}, paying {MarketFmt.Denom(rules, outcome.PricePerBlock)}/block; runway {MarketFmt.Runway(rules, escrow?.RunwayBlocks)}");
            Advance(job, DeployJobState.Running);
            node.Dispose();
            node = null;

            if (request.Template.JoinsTask && request.Tasks.Count > 0)
            {
                await WaitJoinedAsync(job, market, ct);
            }
            if (request.AutoTopUpHours is { } hours && job.State is DeployJobState.Running or DeployJobState.Joined)
            {
                await TopUpAsync(job, market, hours, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Step(job, "note", "the console stopped; the deployment stays on the ledger as it was");
        }
        catch (Exception ex)
        {
            // Nobody waits on a job but its page: whatever ends it (a refusal, a provider or ledger gone) is shown there word for word.
            LogJobFailed(logger, ex, job.Id);
            Fail(job, ex.Message);
            if (funded && node is not null)
            {
                await CleanUpAsync(job, node);
            }
        }
        finally
        {
            node?.Dispose();
            _running.TryRemove(job.Id, out _);
        }
    }

    /// <summary>Runs the flow while a watcher reports each bid and the lease from the ledger as they land.</summary>
    private async Task<DeployOutcome> DeployAsync(DeployJob job, DeployPlan plan, MarketParams rules, CancellationToken ct)
    {
        var market = await data.MarketAsync(ct);
        var flow = new DeployFlow(market, actions.Key, await data.ProviderClientAsync(ct), time);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watcher = WatchAsync(job, market, rules, watching.Token);
        try
        {
            return await flow.RunAsync(plan, job.Request.Options with { Dseq = job.Deployment.Dseq }, new JobProgress(this, job), ct);
        }
        finally
        {
            await watching.CancelAsync();
            await watcher;
        }
    }

    private async Task WatchAsync(DeployJob job, MarketApiClient market, MarketParams rules, CancellationToken ct)
    {
        var seen = new HashSet<LeaseId>();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await market.GetDeploymentAsync(job.Deployment, ct) is { } d)
                {
                    Advance(job, DeployJobState.WaitingForBids);
                    foreach (var order in d.Groups.SelectMany(g => g.Orders))
                    {
                        foreach (var bid in order.Bids.Where(b => seen.Add(b.Id)))
                        {
                            Step(job, "bid", $"bid from {bid.Id.Provider} on group {order.Group}: {MarketFmt.Denom(rules, bid.Price)}/block ({MarketFmt.PerHour(rules, bid.Price)}), " +
                                $"ceiling {MarketFmt.Denom(rules, order.CeilingPerBlock)}/block");
                        }
                    }
                    if (d.Leases.Any(l => l.Status == LeaseStatus.Active))
                    {
                        Advance(job, DeployJobState.Leased);
                    }
                }
                await Task.Delay(PollInterval, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or LedgerException or System.Text.Json.JsonException)
            {
                // The flow itself fails when the market is gone; the watcher only looks again.
            }
        }
    }

    /// <summary>Follows the coordinator until the node is among its task's trainers or validators; stops when the lease closes first.</summary>
    private async Task WaitJoinedAsync(DeployJob job, MarketApiClient market, CancellationToken ct)
    {
        var role = job.Request.Template.Role!;
        var deadline = time.GetUtcNow() + JoinTimeout;
        var joined = new HashSet<ulong>();
        Step(job, "wait", $"waiting for the node to stake and join task{(job.Request.Tasks.Count == 1 ? "" : "s")} {string.Join(", ", job.Request.Tasks)} as {role}");
        while (time.GetUtcNow() < deadline)
        {
            try
            {
                foreach (var id in job.Request.Tasks.Where(t => !joined.Contains(t)))
                {
                    var task = await data.Api.GetTaskAsync(id, ct);
                    var members = role == "validator" ? task.Validators : task.Trainers;
                    if (members.Any(m => Address.TryParse(m, out var a, out _) && a == job.Node))
                    {
                        joined.Add(id);
                        Step(job, "joined", $"the node {job.Node} joined task {id} as {role}");
                    }
                }
                if (joined.Count == job.Request.Tasks.Count)
                {
                    Advance(job, DeployJobState.Joined);
                    return;
                }
                var d = await market.GetDeploymentAsync(job.Deployment, ct);
                if (d is null || !d.Leases.Any(l => l.Status == LeaseStatus.Active))
                {
                    var closed = d?.Leases.LastOrDefault();
                    Fail(job, $"the lease closed before the node joined{(closed?.CloseReason is { } why ? $" ({why})" : "")}");
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or LedgerException or System.Text.Json.JsonException)
            {
                // The coordinator or the market did not answer this time; the node may be joining meanwhile.
            }
            await Task.Delay(PollInterval * 10, time, ct);
        }
        Step(job, "note", $"the node has not joined after {JoinTimeout.TotalMinutes:0} minutes; its logs are on the lease's page");
    }

    private async Task TopUpAsync(DeployJob job, MarketApiClient market, double hours, CancellationToken ct)
    {
        Step(job, "top-up", $"keeping the escrow's runway above {hours:0.##} h while the console runs (as `skein deploy --auto-top-up`)");
        using var signer = new MarketSigner(market, actions.Key);
        await new AutoTopUp(market, signer, job.Deployment, hours).RunAsync(TimeSpan.FromSeconds(Math.Clamp(hours * 3600 / 20, 1, 300)),
            amount => Step(job, "top-up", $"topped up the escrow with {MarketFmt.Tokens(amount)}"), time, ct);
    }

    /// <summary>
    /// A deploy that never leased leaves the node's stake on a key nobody else has: close the deployment if the flow
    /// left it open, and send the stake back to the console's key.
    /// </summary>
    private async Task CleanUpAsync(DeployJob job, LedgerKey node)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var market = await data.MarketAsync(timeout.Token);
            var d = await market.GetDeploymentAsync(job.Deployment, timeout.Token);
            if (d?.Leases.Any() == true)
            {
                // Leased once: the manifest (and the key) may be on a provider, and the node may be running; leave both.
                return;
            }
            if (d is { Status: DeploymentStatus.Active })
            {
                var closed = await actions.SendAsync((f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = job.Deployment.Dseq },
                    "closed the deployment; its deposit returned", timeout.Token);
                Step(job, "close", closed.Message);
            }
            await RefundAsync(job, node, market, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or LedgerException or OperationCanceledException)
        {
            Step(job, "error", $"could not clean up: {ex.Message}");
        }
    }

    private async Task RefundAsync(DeployJob job, LedgerKey node, MarketApiClient market, CancellationToken ct)
    {
        var balance = await market.GetBalanceAsync(node.Address, ct);
        if (balance == 0)
        {
            return;
        }
        using var signer = new MarketSigner(market, node);
        await signer.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = actions.Key.Address, Amount = balance }, ct);
        Step(job, "refund", $"returned the node's {MarketFmt.Tokens(balance)} to {actions.Key.Address}: no provider got its key");
    }

    private void Fail(DeployJob job, string error)
    {
        job.Error = error;
        Advance(job, DeployJobState.Failed);
        Step(job, "error", error);
    }

    private void Advance(DeployJob job, DeployJobState state)
    {
        if (job.Advance(state))
        {
            events.Publish(new ConsoleEvent("job", null, null, 0));
        }
    }

    internal void Step(DeployJob job, string kind, string text)
    {
        job.Add(new DeployStep(time.GetUtcNow(), kind, text));
        events.Publish(new ConsoleEvent("job", null, null, 0));
    }

    /// <summary>Drops the oldest settled jobs past <see cref="Kept"/>.</summary>
    private void Forget()
    {
        foreach (var old in _jobs.Values.Where(j => j.Settled).OrderByDescending(j => j.Started).Skip(Kept).ToArray())
        {
            _jobs.TryRemove(old.Id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // a job stuck on a dead provider: the deployment is on the ledger regardless
        }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "console: deploy job {Job} failed")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string job);

    /// <summary>The flow's own progress lines, recorded as they come (synchronously: <see cref="Progress{T}"/> would post them out of order).</summary>
    private sealed class JobProgress(DeployJobs jobs, DeployJob job) : IProgress<string>
    {
        public void Report(string value) => jobs.Step(job, "flow", value);
    }
}
