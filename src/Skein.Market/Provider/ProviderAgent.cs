using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market.Runtime;

namespace Skein.Market.Provider;

/// <summary>
/// The provider daemon's logic: registers on the ledger, bids on the open orders it can serve (placement, GPUs,
/// capacity, its pricing, the tenant's ceiling), takes manifests from the leases' tenants, runs their services with
/// its runtime, stops them when a lease closes for any reason, restarts failed ones, re-adopts its workloads after
/// its own restart, and withdraws its earnings. All it must remember is in its store and on the ledger.
/// </summary>
public sealed partial class ProviderAgent : IDisposable
{
    private readonly IMarketLedger _market;
    private readonly LedgerKey _key;
    private readonly ProviderOptions _options;
    private readonly IBidPricing _pricing;
    private readonly IWorkloadRuntime _runtime;
    private readonly ProviderStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MarketSigner _signer;
    private readonly Dictionary<OrderId, DateTimeOffset> _declined = [];
    private readonly SemaphoreSlim _reconcile = new(1, 1);
    private DateTimeOffset _lastWithdraw;
    private Uri? _hostUri;
    private MarketParams? _rules;

    public ProviderAgent(IMarketLedger market, LedgerKey key, ProviderOptions options, IBidPricing pricing, IWorkloadRuntime runtime, ProviderStore store,
        ILogger logger, TimeProvider? time = null)
    {
        _market = market;
        _key = key;
        _options = options;
        _pricing = pricing;
        _runtime = runtime;
        _store = store;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _signer = new MarketSigner(market, key);
        _lastWithdraw = _time.GetUtcNow();
    }

    public Address Address => _key.Address;

    public ulong ChainId => _market.ChainId;

    public IWorkloadRuntime Runtime => _runtime;

    public ProviderOptions Options => _options;

    public IBidPricing Pricing => _pricing;

    /// <summary>Bids placed by this agent since it started.</summary>
    public int BidsPlaced { get; private set; }

    /// <summary>Registers (or updates) the provider's record on the ledger with the URL its endpoint answers on.</summary>
    public async Task RegisterAsync(Uri hostUri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hostUri);
        _hostUri = _options.PublicUri ?? hostUri;
        _rules = (await _market.GetMarketStatusAsync(cancellationToken)).Params;
        var attributes = JsonSerializer.Serialize(new SortedDictionary<string, string>(_options.Attributes.ToDictionary(), StringComparer.Ordinal));
        var capacity = JsonSerializer.Serialize(_options.Capacity, CapacityJson);
        var existing = await _market.GetProviderAsync(_key.Address, cancellationToken);
        if (existing is not null && existing.HostUri == _hostUri.ToString() && JsonSerializer.Serialize(existing.Attributes) == attributes
            && JsonSerializer.Serialize(existing.Capacity, CapacityJson) == capacity)
        {
            return;
        }
        await _signer.SendAsync((f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = _hostUri.ToString(), Attributes = attributes, Capacity = capacity }, cancellationToken);
        LogRegistered(_logger, _key.Address, _hostUri);
    }

    /// <summary>After a restart: re-adopts the workloads still running, restarts the dead ones of active leases, stops those of closed leases.</summary>
    public async Task AdoptAsync(CancellationToken cancellationToken)
    {
        var found = await _runtime.AdoptAsync(cancellationToken);
        var running = found.Count(s => s.State == WorkloadState.Running);
        LogAdopted(_logger, running, found.Count - running);
        await ReconcileLeasesAsync(cancellationToken);
    }

    /// <summary>The daemon: register, adopt, then bid and reconcile every poll interval, and withdraw every withdraw interval.</summary>
    public async Task RunAsync(Uri hostUri, CancellationToken cancellationToken)
    {
        await RegisterAsync(hostUri, cancellationToken);
        await AdoptAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await BidOnOpenOrdersAsync(cancellationToken);
                await ReconcileLeasesAsync(cancellationToken);
                if (_time.GetUtcNow() - _lastWithdraw >= _options.WithdrawInterval)
                {
                    await WithdrawAsync(cancellationToken);
                    _lastWithdraw = _time.GetUtcNow();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or LedgerException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The market or the ledger did not answer, or refused: the next poll tries again.
                LogPollFailed(_logger, ex.Message);
            }
            try
            {
                await Task.Delay(_options.PollInterval, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Looks at every open order without a bid of ours and bids where the engine says so.</summary>
    public async Task BidOnOpenOrdersAsync(CancellationToken cancellationToken)
    {
        var rules = _rules ??= (await _market.GetMarketStatusAsync(cancellationToken)).Params;
        var orders = await _market.ListOpenOrdersAsync(cancellationToken);
        var now = _time.GetUtcNow();
        foreach (var order in orders)
        {
            if (order.Bids.Any(b => b.Id.Provider == _key.Address)
                || (_declined.TryGetValue(order.Id, out var when) && now - when < _options.ReconsiderAfter))
            {
                continue;
            }
            var decision = await DecideAsync(order.Spec, order.CeilingPerBlock, cancellationToken);
            if (!decision.Bid || decision.Kind != NoBidKind.None)
            {
                _declined[order.Id] = now;
                LogDeclined(_logger, order.Id, decision.Kind, decision.Reason);
                continue;
            }
            try
            {
                await _signer.SendAsync((f, n) => new CreateBid
                {
                    From = f, Nonce = n, Owner = order.Id.Owner, Dseq = order.Id.Dseq, Gseq = order.Id.Gseq, Oseq = order.Id.Oseq, Price = decision.Price!.Value,
                }, cancellationToken);
                BidsPlaced++;
                LogBid(_logger, order.Id, decision.Price!.Value, rules.Denom);
            }
            catch (LedgerException ex)
            {
                // Another provider's lease won, the order closed, or our balance cannot hold the deposit.
                _declined[order.Id] = now;
                LogBidRefused(_logger, order.Id, ex.Message);
            }
        }
        foreach (var stale in _declined.Keys.Where(k => orders.All(o => o.Id != k)).ToArray())
        {
            _declined.Remove(stale);
        }
    }

    /// <summary>The engine's verdict on a group now: what <c>POST /quote</c> answers and what the bid loop acts on.</summary>
    public async Task<BidDecision> DecideAsync(GroupSpec spec, UInt128 ceiling, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rules = _rules ??= (await _market.GetMarketStatusAsync(cancellationToken)).Params;
        var me = await _market.GetProviderAsync(_key.Address, cancellationToken)
            ?? new ProviderInfo(_key.Address, _hostUri?.ToString() ?? "", _options.Attributes, _options.Capacity, 0, new Dictionary<Address, IReadOnlyDictionary<string, string>>());
        var inventory = await InventoryAsync(cancellationToken);
        return await BidEngine.DecideAsync(spec, ceiling, me, inventory, _pricing, rules, cancellationToken);
    }

    /// <summary>What our active leases and open bids hold of the declared capacity.</summary>
    public async Task<Inventory> InventoryAsync(CancellationToken cancellationToken)
    {
        var held = new List<(GroupSpec, IReadOnlyList<string>)>();
        var running = Inventory.Of(_options.Capacity, []);
        foreach (var lease in await _market.ListLeasesAsync(new LeaseQuery(Provider: _key.Address, ActiveOnly: true), cancellationToken))
        {
            if (await _market.GetDeploymentAsync(lease.Id.Deployment, cancellationToken) is { } d && d.Groups.FirstOrDefault(g => g.Gseq == lease.Id.Gseq) is { } g)
            {
                var models = BidEngine.AssignGpus(g.Spec, running, _pricing).Models ?? [];
                held.Add((g.Spec, models));
                running = Inventory.Of(_options.Capacity, held);
            }
        }
        foreach (var order in await _market.ListOpenOrdersAsync(cancellationToken))
        {
            if (order.Bids.Any(b => b.Id.Provider == _key.Address && b.Status == BidStatus.Open))
            {
                var models = BidEngine.AssignGpus(order.Spec, running, _pricing).Models ?? [];
                held.Add((order.Spec, models));
                running = Inventory.Of(_options.Capacity, held);
            }
        }
        return running;
    }

    /// <summary>The market's rules (read once).</summary>
    public async Task<MarketParams> StatusRulesAsync(CancellationToken cancellationToken) => _rules ??= (await _market.GetMarketStatusAsync(cancellationToken)).Params;

    /// <summary>Moves what every active lease has earned to the provider's balance.</summary>
    public async Task WithdrawAsync(CancellationToken cancellationToken)
    {
        foreach (var lease in await _market.ListLeasesAsync(new LeaseQuery(Provider: _key.Address, ActiveOnly: true), cancellationToken))
        {
            if (lease.Accrued == 0)
            {
                continue;
            }
            await _signer.SendAsync((f, n) => new WithdrawLease { From = f, Nonce = n, Owner = lease.Id.Owner, Dseq = lease.Id.Dseq, Gseq = lease.Id.Gseq, Oseq = lease.Id.Oseq },
                cancellationToken);
        }
    }

    public void Dispose()
    {
        _signer.Dispose();
        _reconcile.Dispose();
    }

    internal static readonly JsonSerializerOptions CapacityJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
