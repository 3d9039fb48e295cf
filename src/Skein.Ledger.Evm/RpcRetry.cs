using Nethereum.JsonRpc.Client;

namespace Skein.Ledger.Evm;

/// <summary>
/// Waits out an unreachable JSON-RPC node (restarting, or a dropped connection) for a bounded time, retrying the
/// request; answers from the node, refusals included, pass through at once.
/// </summary>
internal sealed class RpcRetry(TimeSpan retryFor) : RequestInterceptor
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(2);

    public override Task<object> InterceptSendRequestAsync<T>(Func<RpcRequest, string, Task<T>> interceptedSendRequestAsync, RpcRequest request, string route = null!) =>
        RetryAsync(async () => (object)(await interceptedSendRequestAsync(request, route))!);

    public override Task<object> InterceptSendRequestAsync<T>(Func<string, string, object[], Task<T>> interceptedSendRequestAsync, string method, string route = null!, params object[] paramList) =>
        RetryAsync(async () => (object)(await interceptedSendRequestAsync(method, route, paramList))!);

    public override async Task InterceptSendRequestAsync(Func<RpcRequest, string, Task> interceptedSendRequestAsync, RpcRequest request, string route = null!) =>
        await RetryAsync(async () => { await interceptedSendRequestAsync(request, route); return null!; });

    public override async Task InterceptSendRequestAsync(Func<string, string, object[], Task> interceptedSendRequestAsync, string method, string route = null!, params object[] paramList) =>
        await RetryAsync(async () => { await interceptedSendRequestAsync(method, route, paramList); return null!; });

    private async Task<object> RetryAsync(Func<Task<object>> send)
    {
        var waited = TimeSpan.Zero;
        var pause = FirstPause;
        while (true)
        {
            try
            {
                return await send();
            }
            catch (Exception ex) when (Unreachable(ex) && waited < retryFor)
            {
                await Task.Delay(pause);
                waited += pause;
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    /// <summary>The node could not be reached (no answer at all), as opposed to an answer that refuses the request.</summary>
    internal static bool Unreachable(Exception ex) => ex switch
    {
        RpcResponseException => false,
        RpcClientTimeoutException => true,
        HttpRequestException => true,
        System.Net.Sockets.SocketException => true,
        RpcClientUnknownException unknown => unknown.InnerException is null || Unreachable(unknown.InnerException),
        _ when ex.InnerException is { } inner => Unreachable(inner),
        _ => false,
    };
}
