using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Skein.Market.Akash;

/// <summary>A typed client for the Akash Console Managed Wallet API (apps/api in akash-network/console), over a caller-supplied HttpClient.</summary>
/// <remarks>
/// Routes, request and response shapes follow the API's zod schemas; each file here names the schema it mirrors.
/// The key goes in <c>x-api-key</c> on each request (not in DefaultRequestHeaders, so a shared HttpClient from
/// IHttpClientFactory never carries it to other hosts); the API refuses a request that also has an
/// Authorization header (auth.interceptor.ts), so the HttpClient must not set one.
/// </remarks>
public sealed partial class AkashConsoleClient
{
    private const string ApiKeyHeader = "x-api-key";
    private readonly HttpClient _http;
    private readonly AkashConsoleOptions _options;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    public AkashConsoleClient(HttpClient http, AkashConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries);
        _http = http;
        _options = options;
        _delay = options.Delay ?? ((delay, ct) => Task.Delay(delay, options.TimeProvider, ct));
    }

    public Uri BaseUrl => _options.BaseUrl;

    public override string ToString() => $"AkashConsoleClient({_options.BaseUrl})";

    private async Task<T> SendAsync<TBody, T>(
        HttpMethod method, string pathAndQuery, TBody body, JsonTypeInfo<TBody>? bodyType, JsonTypeInfo<AkashEnvelope<T>> responseType, CancellationToken ct)
    {
        // Serialized once: a retry must send the same bytes, and HttpContent cannot be sent twice.
        var payload = bodyType is null ? null : JsonSerializer.SerializeToUtf8Bytes(body, bodyType);
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(_options.BaseUrl, pathAndQuery));
            request.Headers.TryAddWithoutValidation(ApiKeyHeader, _options.ApiKey.Value);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (payload is not null)
            {
                request.Content = new ByteArrayContent(payload);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.IsSuccessStatusCode)
            {
                return await ReadDataAsync(response, responseType, method, pathAndQuery, ct);
            }

            var error = await ToExceptionAsync(response, method, pathAndQuery, ct);
            if (attempt >= _options.MaxRetries || !CanRetry(error, method))
            {
                throw error;
            }

            await _delay(RetryDelay(error, attempt), ct);
        }
    }

    private Task<T> GetAsync<T>(string pathAndQuery, JsonTypeInfo<AkashEnvelope<T>> responseType, CancellationToken ct) =>
        SendAsync<object?, T>(HttpMethod.Get, pathAndQuery, null, null, responseType, ct);

    private static async Task<T> ReadDataAsync<T>(
        HttpResponseMessage response, JsonTypeInfo<AkashEnvelope<T>> responseType, HttpMethod method, string pathAndQuery, CancellationToken ct)
    {
        AkashEnvelope<T>? envelope;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            envelope = await JsonSerializer.DeserializeAsync(stream, responseType, ct);
        }
        catch (JsonException e)
        {
            // JsonException's message names the JSON path and position, never the request headers.
            throw new AkashApiException(response.StatusCode, "InvalidResponse", $"the response is not the expected JSON: {e.Message}", null, null, method.Method, pathAndQuery);
        }

        return envelope is { Data: { } data }
            ? data
            : throw new AkashApiException(response.StatusCode, "InvalidResponse", "the response has no \"data\"", null, null, method.Method, pathAndQuery);
    }

    /// <summary>A 429 was refused before any work was done, so any method may repeat; a 5xx may have half-run a transaction, so only reads and the idempotent close repeat.</summary>
    private static bool CanRetry(AkashApiException error, HttpMethod method) =>
        error.StatusCode == System.Net.HttpStatusCode.TooManyRequests
        || (error.IsTransient && (method == HttpMethod.Get || method == HttpMethod.Delete));

    private TimeSpan RetryDelay(AkashApiException error, int attempt)
    {
        var delay = error.RetryAfter
            ?? TimeSpan.FromTicks(_options.BaseRetryDelay.Ticks * (1L << Math.Min(attempt, 16)));
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }
}
