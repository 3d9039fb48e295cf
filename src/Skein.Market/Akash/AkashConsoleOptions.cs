namespace Skein.Market.Akash;

/// <summary>Where the Console API is, the key, and how often to retry a rate-limited or failed request.</summary>
public sealed class AkashConsoleOptions
{
    /// <summary>The public Console API (the docs' "Base URL"; apps/api/swagger/openapi.json lists the sandbox instead).</summary>
    public static readonly Uri DefaultBaseUrl = new("https://console-api.akash.network/");

    public AkashConsoleOptions(AkashApiKey apiKey, Uri? baseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        ApiKey = apiKey;
        var url = baseUrl ?? DefaultBaseUrl;
        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException("The Console API base URL must be absolute.", nameof(baseUrl));
        }

        // A trailing slash keeps a path prefix ("https://proxy/akash/") when relative paths are appended.
        BaseUrl = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }

    public AkashApiKey ApiKey { get; }

    public Uri BaseUrl { get; }

    /// <summary>How many times a 429 (any method) or a 5xx (GET and DELETE only) is retried before the error is thrown.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The longest wait between attempts, whatever Retry-After asks for.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait when the server sends no Retry-After; it doubles each attempt.</summary>
    public TimeSpan BaseRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock, for Retry-After given as a date.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How to wait between attempts; tests pass one that returns at once.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    public override string ToString() => $"AkashConsoleOptions({BaseUrl}, key ***)";
}
