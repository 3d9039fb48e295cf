using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Market;

/// <summary>
/// The part of a ledger that tenants and providers use: the market's read models, accounts, and submitting signed
/// transactions. In process it is the ledger itself (<see cref="LedgerMarket"/>); across processes, the market's
/// HTTP API (<see cref="Api.MarketApiClient"/>). Refusals are <see cref="LedgerException"/>s either way.
/// </summary>
public interface IMarketLedger
{
    ulong ChainId { get; }

    Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default);

    Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default);

    Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default);

    Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default);

    Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default);

    Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The market of a ledger in this process.</summary>
public sealed class LedgerMarket(ILedger ledger) : IMarketLedger
{
    public ulong ChainId => ledger.ChainId;

    public Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default) => ledger.GetMarketStatusAsync(cancellationToken);

    public Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default) => ledger.GetNonceAsync(account, cancellationToken);

    public Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default) => ledger.GetBalanceAsync(account, cancellationToken);

    public Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default) => ledger.SubmitAsync(transaction, cancellationToken);

    public Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default) => ledger.GetProviderAsync(provider, cancellationToken);

    public Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default) => ledger.ListProvidersAsync(cancellationToken);

    public Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default) => ledger.GetDeploymentAsync(id, cancellationToken);

    public Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default) =>
        ledger.ListDeploymentsAsync(query, cancellationToken);

    public Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default) => ledger.ListOpenOrdersAsync(cancellationToken);

    public Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default) => ledger.ListLeasesAsync(query, cancellationToken);
}
