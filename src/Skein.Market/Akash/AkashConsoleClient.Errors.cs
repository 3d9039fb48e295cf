using System.Text.Json;

namespace Skein.Market.Akash;

/// <summary>Turning an error response into an <see cref="AkashApiException"/>.</summary>
public sealed partial class AkashConsoleClient
{
    private const int MaxExcerpt = 300;

    private async Task<AkashApiException> ToExceptionAsync(HttpResponseMessage response, HttpMethod method, string pathAndQuery, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        AkashErrorBody? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonSerializer.Deserialize(text, AkashJsonContext.Default.AkashErrorBody);
        }
        catch (JsonException)
        {
            // Not the API's JSON: a proxy or load balancer answered (Cloudflare sits in front of the API).
        }

        var message = body?.Message
            ?? (text.Length == 0 ? response.ReasonPhrase ?? "no body" : text.Length > MaxExcerpt ? text[..MaxExcerpt] + "..." : text);
        // The server never echoes the key in its own code, but a proxy's error page could: redact whatever came back.
        var key = _options.ApiKey;
        return new AkashApiException(
            response.StatusCode,
            body?.Error is { } error ? key.Redact(error) : null,
            key.Redact(message),
            body?.Code,
            RetryAfter(response),
            method.Method,
            pathAndQuery);
    }

    /// <summary>Retry-After as seconds or as an HTTP date, measured against the injected clock.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - _options.TimeProvider.GetUtcNow() : null;
    }
}
