using Microsoft.Extensions.Logging;

namespace Skein.Console.Data;

/// <summary>
/// Watches the network for the browsers: every poll interval it reads the chain's status, and when a task moved it
/// refreshes that task and tells every page (server-sent events), so a finished round shows within about a second.
/// It also recomputes settled rounds in the background, so every round shows whether it verifies.
/// </summary>
public sealed partial class ConsoleFeed(ConsoleData data, ConsoleEvents events, ILogger logger)
{
    private readonly Dictionary<ulong, (uint Settled, string Phase, int Tested, bool Cancelled, string? Coordinator)> _seen = [];
    private ulong _height;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(cancellationToken);
                if (data.Options.VerifyRounds && data.Unverified().FirstOrDefault() is { Round: > 0 } next)
                {
                    await data.VerifyAsync(next.Task, next.Round, cancellationToken);
                    events.Publish(new ConsoleEvent("round", next.Task, next.Round, _height));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidDataException or TaskCanceledException or System.Text.Json.JsonException
                && !cancellationToken.IsCancellationRequested)
            {
                LogPollFailed(logger, ex.Message);
            }
            try
            {
                await Task.Delay(data.Options.Poll, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One look: publishes a block event when the height moved and a round event for each task whose round moved.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var status = await data.RefreshStatusAsync(cancellationToken);
        if (status.Height == _height)
        {
            return;
        }
        _height = status.Height;
        foreach (var task in await data.RefreshTasksAsync(cancellationToken))
        {
            var rounds = await data.RoundsAsync(task.Id, cancellationToken);
            var latest = rounds.Count == 0 ? (0u, "") : (rounds[^1].Round, rounds[^1].Phase);
            // A model's test accuracy lands a little after its round settles: that is news for the curve too.
            // A cancel or a handover changes the task's page without moving a round.
            var seen = (task.SettledRounds, latest.Item2, rounds.Count(r => r.Accuracy is not null), task.Cancelled, task.Coordinator);
            if (!_seen.TryGetValue(task.Id, out var before) || before != seen)
            {
                _seen[task.Id] = seen;
                events.Publish(new ConsoleEvent("round", task.Id, latest.Item1, status.Height));
            }
        }
        events.Publish(new ConsoleEvent("block", null, null, status.Height));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "console: could not read the network: {Reason}")]
    private static partial void LogPollFailed(ILogger logger, string reason);
}
