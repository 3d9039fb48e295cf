using System.Collections.Concurrent;
using Skein.Coordinator.Api;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Api;
using ApiAccount = Skein.Coordinator.Api.ApiAccount;

namespace Skein.Console.Data;

/// <summary>
/// What the pages read, from the coordinator's and the market's APIs, cached where the data cannot change: a settled
/// round never changes, so a task's rounds, leaderboard and round details are fetched once per new round, and a page
/// of a task with a thousand rounds costs no more than one with ten.
/// </summary>
public sealed partial class ConsoleData(ConsoleOptions options) : IDisposable
{
    private readonly CoordinatorApiClient _api = new(options.Coordinator);
    private readonly SemaphoreSlim _marketGate = new(1, 1);
    private readonly ConcurrentDictionary<ulong, TaskView> _tasks = new();
    private readonly ConcurrentDictionary<(ulong Task, uint Round), ApiRound> _settled = new();
    private readonly ConcurrentDictionary<(ulong Task, uint Round), RoundVerification> _verified = new();
    private MarketApiClient? _market;
    private ApiStatus? _status;
    private IReadOnlyList<ApiTask> _taskList = [];
    private (ulong Height, (int, int)? Summary)? _marketSummary;

    public CoordinatorApiClient Api => _api;

    public ConsoleOptions Options => options;

    /// <summary>A task's rounds and leaderboard as of its last settled round.</summary>
    private sealed record TaskView(ulong Height, uint Settled, IReadOnlyList<ApiRoundSummary> Rounds, IReadOnlyList<ApiLeaderboardEntry> Leaderboard);

    public async Task<ApiStatus> StatusAsync(CancellationToken ct) => _status ?? await RefreshStatusAsync(ct);

    public async Task<ApiStatus> RefreshStatusAsync(CancellationToken ct) => _status = await _api.GetStatusAsync(ct);

    public async Task<IReadOnlyList<ApiTask>> TasksAsync(CancellationToken ct)
    {
        if (_taskList.Count == 0)
        {
            _taskList = await _api.GetTasksAsync(ct);
        }
        return _taskList;
    }

    public async Task<IReadOnlyList<ApiTask>> RefreshTasksAsync(CancellationToken ct) => _taskList = await _api.GetTasksAsync(ct);

    public async Task<ApiTask?> TaskAsync(ulong id, CancellationToken ct) => (await TasksAsync(ct)).FirstOrDefault(t => t.Id == id) ?? await TryAsync(() => _api.GetTaskAsync(id, ct));

    /// <summary>Every round of a task with its metrics; refetched only when the task has moved.</summary>
    public async Task<IReadOnlyList<ApiRoundSummary>> RoundsAsync(ulong id, CancellationToken ct) => (await ViewAsync(id, ct)).Rounds;

    public async Task<IReadOnlyList<ApiLeaderboardEntry>> LeaderboardAsync(ulong id, CancellationToken ct) => (await ViewAsync(id, ct)).Leaderboard;

    /// <summary>
    /// A task's rounds and leaderboard, brought up to date at most once per block. Only the rounds that can still
    /// change are fetched: a settled round is final on the ledger, and only its test metric may still arrive (the
    /// coordinator tests each new model after its round settles; the task's <c>metrics_through</c> says how far it got).
    /// So a new block costs one or two rounds, not the task's whole history.
    /// </summary>
    private async Task<TaskView> ViewAsync(ulong id, CancellationToken ct)
    {
        var height = (await StatusAsync(ct)).Height;
        if (_tasks.TryGetValue(id, out var view) && view.Height == height)
        {
            return view;
        }
        var task = await TaskAsync(id, ct);
        var cached = view?.Rounds ?? [];
        var from = FirstChangeable(cached, task?.MetricsThrough ?? 0);
        var fresh = await _api.GetRoundSummariesAsync(id, from, ct);
        // A coordinator that predates ?from= answers with every round.
        IReadOnlyList<ApiRoundSummary> rounds = fresh.Count > 0 && fresh[0].Round < from ? fresh : [.. cached.Take((int)from - 1), .. fresh];
        var settled = (uint)rounds.Count(r => r.Phase == "settled");
        // The leaderboard counts settled rounds only: it changes when a round settles, not at every block.
        var board = view is not null && view.Settled == settled ? view.Leaderboard : await _api.GetLeaderboardAsync(id, ct);
        view = new TaskView(height, settled, rounds, board);
        _tasks[id] = view;
        return view;
    }

    /// <summary>The first round whose summary may differ from <paramref name="cached"/>: not settled yet, or settled without the metric the coordinator now has.</summary>
    internal static uint FirstChangeable(IReadOnlyList<ApiRoundSummary> cached, uint metricsThrough)
    {
        for (var i = 0; i < cached.Count; i++)
        {
            var r = cached[i];
            if (r.Round != i + 1 || r.Phase != "settled" || (r.Accuracy is null && r.Round <= metricsThrough))
            {
                return (uint)i + 1;
            }
        }
        return (uint)cached.Count + 1;
    }

    /// <summary>A round with its updates, scores and payouts; a settled one is kept for good.</summary>
    public async Task<ApiRound?> RoundAsync(ulong id, uint round, CancellationToken ct)
    {
        if (_settled.TryGetValue((id, round), out var cached))
        {
            return cached;
        }
        var r = await TryAsync(() => _api.GetRoundAsync(id, round, ct));
        if (r is { Phase: "settled" })
        {
            _settled[(id, round)] = r;
        }
        return r;
    }

    public Task<ApiAccount?> AccountAsync(string address, CancellationToken ct) => TryAsync(() => _api.GetAccountAsync(address, ct));

    public Task<ApiGovernance> GovernanceAsync(CancellationToken ct) => _api.GetGovernanceAsync(ct);

    /// <summary>Governance with <paramref name="voter"/>'s power and vote in each proposal.</summary>
    public Task<ApiGovernance> GovernanceAsync(string voter, CancellationToken ct) => _api.GetGovernanceAsync(voter, ct);

    /// <summary>The recomputation of a settled round, if done; <see cref="VerifyAsync"/> does it.</summary>
    public RoundVerification? Verification(ulong id, uint round) => _verified.TryGetValue((id, round), out var v) ? v : null;

    public async Task<RoundVerification> VerifyAsync(ulong id, uint round, CancellationToken ct)
    {
        var v = await RoundVerifier.VerifyAsync(_api, id, round, ct);
        _verified[(id, round)] = v;
        return v;
    }

    /// <summary>Settled rounds not yet recomputed, oldest first.</summary>
    public IEnumerable<(ulong Task, uint Round)> Unverified() =>
        _tasks.SelectMany(kv => kv.Value.Rounds.Where(r => r.Phase == "settled").Select(r => (kv.Key, r.Round))).Where(k => !_verified.ContainsKey(k)).OrderBy(k => k.Round);

    public async Task<MarketApiClient> MarketAsync(CancellationToken ct)
    {
        if (_market is { } m)
        {
            return m;
        }
        await _marketGate.WaitAsync(ct);
        try
        {
            return _market ??= await MarketApiClient.ConnectAsync(options.Market ?? options.Coordinator, cancellationToken: ct);
        }
        finally
        {
            _marketGate.Release();
        }
    }

    public async Task<(IReadOnlyList<ProviderInfo> Providers, IReadOnlyList<DeploymentInfo> Deployments, MarketStatus Status)?> MarketViewAsync(CancellationToken ct)
    {
        try
        {
            var market = await MarketAsync(ct);
            return (await market.ListProvidersAsync(ct), await market.ListDeploymentsAsync(new DeploymentQuery(), ct), await market.GetMarketStatusAsync(ct));
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Providers registered and providers with an active lease, refetched at most once per block; null when there is no market.</summary>
    public async Task<(int Providers, int Leasing)?> MarketSummaryAsync(CancellationToken ct)
    {
        var height = (await StatusAsync(ct)).Height;
        if (_marketSummary is { } cached && cached.Height == height)
        {
            return cached.Summary;
        }
        (int, int)? summary = null;
        if (await MarketViewAsync(ct) is { } view)
        {
            var leasing = view.Deployments.SelectMany(d => d.Leases).Where(l => l.Status == LeaseStatus.Active).Select(l => l.Id.Provider).Distinct().Count();
            summary = (view.Providers.Count, leasing);
        }
        _marketSummary = (height, summary);
        return summary;
    }

    public async Task<byte[]> BlobAsync(string hash, CancellationToken ct) => await _api.GetBlobAsync(hash, ct);

    private static async Task<T?> TryAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpRequestException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.BadRequest)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _api.Dispose();
        _market?.Dispose();
        _marketGate.Dispose();
        _providerHttp.Dispose();
    }
}
