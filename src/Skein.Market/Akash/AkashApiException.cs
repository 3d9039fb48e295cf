using System.Net;

namespace Skein.Market.Akash;

/// <summary>The Console API answered with an error: the status, the API's <c>error</c> and <c>message</c>, and whether a retry can help.</summary>
/// <remarks>Nothing here holds the API key: the client redacts it from anything the server sends back.</remarks>
public sealed class AkashApiException : Exception
{
    internal AkashApiException(HttpStatusCode statusCode, string? error, string apiMessage, string? code, TimeSpan? retryAfter, string method, string path)
        : base($"Akash Console API {method} {path} failed: {(int)statusCode} {error ?? statusCode.ToString()}: {apiMessage}")
    {
        StatusCode = statusCode;
        Error = error;
        ApiMessage = apiMessage;
        Code = code;
        RetryAfter = retryAfter;
        Method = method;
        Path = path;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The API's <c>error</c>: the error class name, such as "BadRequestError" or "UnauthorizedError"; null when the body was not the API's.</summary>
    public string? Error { get; }

    /// <summary>The API's <c>message</c>, or a short excerpt of a body that was not JSON (a proxy's error page).</summary>
    public string ApiMessage { get; }

    /// <summary>The API's <c>code</c>, such as "validation_error", "unauthorized", "rate_limited".</summary>
    public string? Code { get; }

    /// <summary>What the server's Retry-After header asked for, if it sent one.</summary>
    public TimeSpan? RetryAfter { get; }

    public string Method { get; }

    /// <summary>The path and query the request went to (no host, no key).</summary>
    public string Path { get; }

    /// <summary>True for 429 and 5xx: the same request may succeed later. 4xx other than 429 needs a change first.</summary>
    public bool IsTransient => StatusCode == HttpStatusCode.TooManyRequests || (int)StatusCode >= 500;
}
