using System.Net.Http.Json;
using System.Text;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Market.Api;

/// <summary>
/// The market over HTTP: a tenant's or provider's view of a ledger that another process hosts. Refusals come back
/// as the ledger's own <see cref="LedgerException"/>s (the API's error code names the rule); a transport failure is
/// an <see cref="HttpRequestException"/> (retrying can help).
/// </summary>
public sealed class MarketApiClient : IMarketLedger, IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private MarketParams? _rules;

    private MarketApiClient(HttpClient http, bool ownsHttp, ulong chainId)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        ChainId = chainId;
    }

    public ulong ChainId { get; }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Connects to the market at <paramref name="baseUri"/> and reads its chain id and rules.</summary>
    public static async Task<MarketApiClient> ConnectAsync(Uri baseUri, HttpClient? http = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        var owns = http is null;
        http ??= new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.BaseAddress ??= baseUri;
        var status = await GetAsync<ApiMarketStatus>(http, "v1/market", cancellationToken);
        return new MarketApiClient(http, owns, status.ChainId) { _rules = MarketApiMapping.FromApi(status).Params };
    }

    public async Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default)
    {
        var status = MarketApiMapping.FromApi(await GetAsync<ApiMarketStatus>(_http, "v1/market", cancellationToken));
        _rules = status.Params;
        return status;
    }

    public async Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default) =>
        (await GetAsync<ApiAccount>(_http, $"v1/accounts/{account}", cancellationToken)).Nonce;

    public async Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default) =>
        Tokens.Parse((await GetAsync<ApiAccount>(_http, $"v1/accounts/{account}", cancellationToken)).Balance);

    public async Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        using var content = new StringContent(transaction.ToJson(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri("v1/tx", UriKind.Relative), content, cancellationToken);
        var result = await ReadAsync<ApiTxResult>(response, cancellationToken);
        return new TxReceipt(Hash32.Parse(result.Id), result.Height, 0);
    }

    public async Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri($"v1/providers/{provider}", UriKind.Relative), cancellationToken);
        return response.StatusCode == System.Net.HttpStatusCode.NotFound ? null : MarketApiMapping.FromApi(await ReadAsync<ApiProvider>(response, cancellationToken));
    }

    public async Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync<ApiProvider[]>(_http, "v1/providers", cancellationToken)).Select(MarketApiMapping.FromApi).ToArray();

    public async Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri($"v1/deployments/{id.Owner}/{id.Dseq}", UriKind.Relative), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        var entry = await ReadAsync<ApiDeploymentEntry>(response, cancellationToken);
        return MarketApiMapping.FromApi(await RulesAsync(cancellationToken), entry);
    }

    public async Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var rules = await RulesAsync(cancellationToken);
        var entries = await GetAsync<ApiDeploymentEntry[]>(_http, "v1/deployments" + Query(("owner", query.Owner?.ToString()), ("provider", query.Provider?.ToString()),
            ("active", query.ActiveOnly ? "true" : null)), cancellationToken);
        return entries.Select(e => MarketApiMapping.FromApi(rules, e)).ToArray();
    }

    public async Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default)
    {
        var rules = await RulesAsync(cancellationToken);
        var entries = await GetAsync<ApiOrderEntry[]>(_http, "v1/orders", cancellationToken);
        return entries.Select(e =>
        {
            var id = new OrderId(Address.Parse(e.Id.Owner), MarketApiMapping.ParseDseq(e.Id.Dseq), e.Id.Gseq, e.Id.Oseq);
            return new OrderInfo(id, e.Group, OrderStatus.Open, e.CreatedAt, e.Spec, MarketApiMapping.Units(rules, e.Ceiling, "ceiling"),
                e.Bids.Select(b => MarketApiMapping.FromApi(rules, b)).ToArray(), null);
        }).ToArray();
    }

    public async Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var rules = await RulesAsync(cancellationToken);
        var entries = await GetAsync<ApiLeaseEntry[]>(_http, "v1/leases" + Query(("owner", query.Owner?.ToString()), ("provider", query.Provider?.ToString()),
            ("active", query.ActiveOnly ? "true" : null)), cancellationToken);
        return entries.Select(e => MarketApiMapping.FromApi(rules, e)).ToArray();
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<MarketParams> RulesAsync(CancellationToken cancellationToken) => _rules ?? (await GetMarketStatusAsync(cancellationToken)).Params;

    private static string Query(params (string Name, string? Value)[] parts)
    {
        var present = parts.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToArray();
        return present.Length == 0 ? "" : "?" + string.Join('&', present);
    }

    private static async Task<T> GetAsync<T>(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            var envelope = await response.Content.ReadFromJsonAsync<ApiEnvelope<T>>(MarketJson.Options, cancellationToken);
            return envelope is null ? throw new HttpRequestException($"{response.RequestMessage?.RequestUri}: empty answer") : envelope.Data;
        }
        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<ApiError>(MarketJson.Options, cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            // not one of ours: fall through to the status line
        }
        if (error is not null && response.StatusCode == System.Net.HttpStatusCode.BadRequest && TryLedgerError(error.Error, out var code))
        {
            throw new LedgerException(code, error.Message);
        }
        throw new HttpRequestException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {error?.Error}: {error?.Message}", null, response.StatusCode);
    }

    private static bool TryLedgerError(string text, out LedgerError code)
    {
        foreach (var value in Enum.GetValues<LedgerError>())
        {
            if (MarketApi.ErrorCode(value) == text)
            {
                code = value;
                return true;
            }
        }
        code = default;
        return false;
    }
}
