using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Market.Api;
using Skein.Market.Provider;

namespace Skein.Market.Deploy;

/// <summary>A tenant's calls to a provider's endpoint: quotes, the manifest, lease status and logs, signed with the tenant's key where the provider asks for proof.</summary>
public sealed class ProviderClient(HttpClient http, ulong chainId, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<QuoteView> QuoteAsync(Uri provider, GroupSpec spec, ApiCoin ceiling, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        using var response = await http.PostAsJsonAsync(new Uri(provider, "quote"), new QuoteRequest(spec, ceiling), MarketJson.Options, cancellationToken);
        return await ReadAsync<QuoteView>(response, cancellationToken);
    }

    public async Task<ProviderStatusView> StatusAsync(Uri provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        using var response = await http.GetAsync(new Uri(provider, "status"), cancellationToken);
        return await ReadAsync<ProviderStatusView>(response, cancellationToken);
    }

    /// <summary>Sends the manifest of <paramref name="deployment"/> to the provider of one of its leases.</summary>
    public async Task<IReadOnlyList<ServiceView>> SendManifestAsync(Uri provider, Address providerAddress, LedgerKey tenant, DeploymentId deployment, string manifestJson,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(tenant);
        var path = $"/deployment/{deployment.Owner}/{deployment.Dseq}/manifest";
        var body = Encoding.UTF8.GetBytes(manifestJson);
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(provider, path.TrimStart('/'))) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add(TenantProof.Header, TenantProof.Create(tenant, chainId, providerAddress, "PUT", path, body, _time.GetUtcNow()));
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<ServiceView[]>(response, cancellationToken);
    }

    public async Task<LeaseStatusView> LeaseStatusAsync(Uri provider, LeaseId lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        using var response = await http.GetAsync(new Uri(provider, $"lease/{lease.Owner}/{lease.Dseq}/{lease.Gseq}/{lease.Oseq}/status"), cancellationToken);
        return await ReadAsync<LeaseStatusView>(response, cancellationToken);
    }

    /// <summary>The lease's logs, line by line; with <paramref name="follow"/>, until its workloads end or the token fires.</summary>
    public async IAsyncEnumerable<string> LogsAsync(Uri provider, LedgerKey tenant, LeaseId lease, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(tenant);
        var path = $"/lease/{lease.Owner}/{lease.Dseq}/{lease.Gseq}/{lease.Oseq}/logs";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(provider, path.TrimStart('/') + (follow ? "?follow=true" : "")));
        request.Headers.Add(TenantProof.Header, TenantProof.Create(tenant, chainId, lease.Provider, "GET", path, [], _time.GetUtcNow()));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync<object>(response, cancellationToken);
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            yield return line;
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            var envelope = await response.Content.ReadFromJsonAsync<ApiEnvelope<T>>(MarketJson.Options, cancellationToken);
            return envelope is null ? throw new HttpRequestException("provider: empty answer") : envelope.Data;
        }
        ApiError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<ApiError>(MarketJson.Options, cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            // not one of ours
        }
        throw new ProviderRefusedException((int)response.StatusCode, error?.Error ?? "http_error", error?.Message ?? $"provider answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }
}

/// <summary>A provider refused a request (a manifest whose hash differs, a request not signed by the owner, ...), with its code and reason.</summary>
public sealed class ProviderRefusedException(int status, string error, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Error { get; } = error;
}
