using System.Globalization;

namespace Skein.Market.Akash;

/// <summary>What <c>skein deploy --akash-console</c> does: create the deployment, wait for bids, lease the cheapest per group, price it.</summary>
/// <remarks>
/// Expected endings (no bid, a lease refused) are results; a failing or unreachable API otherwise throws
/// (<see cref="AkashApiException"/>, <see cref="HttpRequestException"/>), after the deployment is closed when
/// <see cref="AkashDeployFlowOptions.CloseOnFailure"/> is set. Cancelling leaves
/// the deployment open: <see cref="AkashDeployStage.DeploymentCreated"/> has told the caller its dseq.
/// </remarks>
public sealed partial class AkashDeployFlow
{
    private readonly AkashConsoleClient _console;
    private readonly AkashDeployFlowOptions _options;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    public AkashDeployFlow(AkashConsoleClient console, AkashDeployFlowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        _console = console;
        _options = options ?? new AkashDeployFlowOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.PollInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BidTimeout, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.AverageBlockTimeSeconds, 0m, nameof(options));
        var time = _options.TimeProvider;
        _delay = _options.Delay ?? ((delay, ct) => Task.Delay(delay, time, ct));
    }

    public async Task<AkashDeployResult> DeployAsync(string sdl, CancellationToken ct = default)
    {
        var created = await _console.CreateDeploymentAsync(sdl, _options.DepositUsd, ct);
        var dseq = created.Dseq;
        Report(AkashDeployStage.DeploymentCreated, dseq, 0, TimeSpan.Zero);

        BidWait wait;
        try
        {
            wait = await WaitForBidsAsync(dseq, AkashManifest.CountGroups(created.Manifest), ct);
        }
        catch (Exception e) when (_options.CloseOnFailure && IsInfrastructureFailure(e, ct))
        {
            await TryCloseAsync(dseq, ct);
            throw;
        }

        if (!wait.Choice.Complete)
        {
            return await NoBidsAsync(dseq, wait, ct);
        }

        AkashDeploymentDetails details;
        try
        {
            details = await _console.CreateLeaseAsync(created.Manifest, wait.Choice.Bids.Select(b => b.Id).ToList(), ct);
        }
        catch (AkashApiException e)
        {
            return await LeaseFailedAsync(dseq, e, ct);
        }
        catch (Exception e) when (_options.CloseOnFailure && IsInfrastructureFailure(e, ct))
        {
            // No answer at all: the lease may or may not exist; closing ends both cases without a running bill.
            await TryCloseAsync(dseq, ct);
            throw;
        }

        Report(AkashDeployStage.LeasesCreated, dseq, wait.Choice.OpenBids, wait.Elapsed);
        return await LeasedAsync(dseq, wait.Choice, details, ct);
    }

    private async Task<BidWait> WaitForBidsAsync(string dseq, int? groups, CancellationToken ct)
    {
        var time = _options.TimeProvider;
        var start = time.GetUtcNow();
        // Bounded by count as well as by the clock, so a clock that never moves cannot keep it polling.
        var maxPolls = (int)Math.Min(int.MaxValue - 1, Math.Ceiling(_options.BidTimeout / _options.PollInterval)) + 1;
        var choice = new AkashBidChoice([], groups is { } n ? Enumerable.Range(1, n).ToList() : [1], 0);
        var elapsed = TimeSpan.Zero;
        var polls = 0;
        while (polls < maxPolls)
        {
            var bids = await _console.GetBidsAsync(dseq, ct);
            polls++;
            choice = AkashBidSelection.Choose(bids, groups, _options.Provider);
            elapsed = time.GetUtcNow() - start;
            Report(AkashDeployStage.BidsPolled, dseq, choice.OpenBids, elapsed);
            if ((choice.Complete && elapsed >= _options.MinimumBidWait) || elapsed >= _options.BidTimeout || polls == maxPolls)
            {
                break;
            }

            var remaining = _options.BidTimeout - elapsed;
            await _delay(remaining < _options.PollInterval ? remaining : _options.PollInterval, ct);
        }

        return new BidWait(choice, polls, elapsed);
    }

    private async Task<bool> TryCloseAsync(string dseq, CancellationToken ct)
    {
        try
        {
            var closed = await _console.CloseDeploymentAsync(dseq, ct);
            if (closed)
            {
                Report(AkashDeployStage.DeploymentClosed, dseq, 0, TimeSpan.Zero);
            }

            return closed;
        }
        catch (Exception e) when (IsInfrastructureFailure(e, ct))
        {
            // The close is a courtesy on the way out; the result says the deployment may still be open.
            return false;
        }
    }

    /// <summary>The API failed or could not be reached (an HttpClient timeout included); not the caller cancelling.</summary>
    private static bool IsInfrastructureFailure(Exception e, CancellationToken ct) =>
        e is AkashApiException or HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested);

    private void Report(AkashDeployStage stage, string dseq, int openBids, TimeSpan elapsed) =>
        _options.Progress?.Report(new AkashDeployProgress(stage, dseq, openBids, elapsed));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";

    private sealed record BidWait(AkashBidChoice Choice, int Polls, TimeSpan Elapsed);
}
