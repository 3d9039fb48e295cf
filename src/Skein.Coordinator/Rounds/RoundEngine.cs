using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Skein.Aggregation;
using Skein.Coordinator.Grpc;
using Skein.Coordinator.State;
using Skein.Core;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Coordinator.Rounds;

/// <summary>
/// Drives one hosted task through its rounds on the ledger: open, close training, close commits, aggregate the
/// accepted updates and finalize. Every decision is read back from the ledger, so a restarted engine picks up the
/// round where the ledger left it; phase deadlines restart from the moment the engine sees the phase.
/// </summary>
public sealed partial class RoundEngine(CoordinatorContext coordinator, HostedTask hosted, ILogger logger)
{
    private readonly TaskSpec _spec = TaskSpec.Parse(hosted.SpecJson);
    private (uint Round, RoundPhase Phase, DateTimeOffset Since) _phaseSeen;
    private (uint Round, int Count, DateTimeOffset Since) _submissionsSeen;

    public ulong TaskId => (ulong)hosted.TaskId;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var ledger = coordinator.Ledger;
        while (!cancellationToken.IsCancellationRequested)
        {
            var task = await ledger.GetTaskAsync(TaskId, cancellationToken) ?? throw new InvalidOperationException($"task {TaskId} is not on the ledger");
            if (task.Completed)
            {
                await PublishAsync(task.SettledRounds, true, cancellationToken);
                LogCompleted(logger, TaskId, task.SettledRounds);
                return;
            }
            if (task.Cancelled)
            {
                LogCancelled(logger, TaskId, task.SettledRounds);
                return;
            }
            if (task.Coordinator != coordinator.Key.Address)
            {
                // Handed over: the new coordinator's process resumes it from the ledger and the published blobs.
                LogHandedOver(logger, TaskId, task.Coordinator);
                return;
            }
            try
            {
                if (await MoveAsync(task, cancellationToken))
                {
                    continue;
                }
            }
            catch (LedgerException ex) when (ex.Code is LedgerError.WrongPhase or LedgerError.RoundNotOpen or LedgerError.NotCoordinator or LedgerError.TaskCancelled)
            {
                // Someone staked closed the phase after its deadline, or the task was cancelled or handed over, between
                // reading the ledger and writing to it: read it again.
                LogRaced(logger, TaskId, ex.Message);
                continue;
            }
            await coordinator.Events.WaitAsync(TaskId, TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    /// <summary>Opens the next round or moves the open one on; true if the ledger changed.</summary>
    private async Task<bool> MoveAsync(TaskInfo task, CancellationToken cancellationToken)
    {
        var ledger = coordinator.Ledger;
        var r = task.SettledRounds + 1;
        var round = await ledger.GetRoundAsync(TaskId, r, cancellationToken);
        if (round is null)
        {
            // A tournament's windows all start from the task's initial adapter; a federated round from the last aggregate.
            var model = task.SettledRounds == 0 || _spec.IsTournament ? Hash32.Parse(hosted.InitialModel) : task.ModelHash;
            if (model != Hash32.Parse(hosted.InitialModel))
            {
                await EnsureModelAsync(task, cancellationToken);
            }
            await SendAsync((from, nonce) => new OpenRound { From = from, Nonce = nonce, TaskId = TaskId, Round = r, ModelHash = model }, cancellationToken);
            LogOpened(logger, TaskId, r);
            await PublishAsync(r, false, cancellationToken);
            return true;
        }
        if (await StepAsync(round, cancellationToken))
        {
            await PublishAsync(r, false, cancellationToken);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Makes sure the blob store holds the model the last round settled on, which nodes will download: a member
    /// that settled the round after its deadline computed it elsewhere. It comes from a peer, or is recomputed from
    /// the round's public data exactly as its settler computed it, and is kept only if it hashes to what the ledger recorded.
    /// </summary>
    private async Task EnsureModelAsync(TaskInfo task, CancellationToken cancellationToken)
    {
        var hex = RoundEventFactory.Hex(task.ModelHash);
        if (coordinator.Blobs.Exists(hex))
        {
            return;
        }
        try
        {
            await coordinator.ReadBlobAsync(hex, cancellationToken);
            return;
        }
        catch (FileNotFoundException)
        {
            // no peer has it: recompute it
        }
        var last = (await coordinator.Ledger.GetRoundAsync(TaskId, task.SettledRounds, cancellationToken))!;
        var model = await RoundCloser.NewModelAsync(coordinator.Ledger, task, last, _spec, coordinator.ReadBlobAsync, coordinator.Incentives, cancellationToken);
        if (model.Hash != task.ModelHash || model.Bytes is null)
        {
            throw new InvalidOperationException($"task {TaskId}: round {last.Round} settled on model {task.ModelHash}, which no peer has and which recomputing gives as {model.Hash}");
        }
        await coordinator.Blobs.PutAsync(model.Bytes, cancellationToken);
        LogRecomputed(logger, TaskId, last.Round, task.ModelHash);
    }

    /// <summary>Moves the round on if its phase is done or its deadline passed; true if it moved.</summary>
    private async Task<bool> StepAsync(RoundInfo round, CancellationToken cancellationToken)
    {
        var now = TimeProvider.System.GetUtcNow();
        if (_phaseSeen.Round != round.Round || _phaseSeen.Phase != round.Phase)
        {
            _phaseSeen = (round.Round, round.Phase, now);
        }
        var timings = coordinator.Options.Timings;
        switch (round.Phase)
        {
            case RoundPhase.Training:
                if (!(_spec.IsTournament ? WindowDue(round, timings, now) : Due(round.Updates.Count, round.PickedTrainers.Count, timings.Training, now)))
                {
                    return false;
                }
                await SendAsync((from, nonce) => new CloseTraining { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round }, cancellationToken);
                LogPhase(logger, TaskId, round.Round, "training", round.Updates.Count, round.PickedTrainers.Count);
                return true;
            case RoundPhase.Committing:
                if (!Due(round.Committed.Count, round.PickedValidators.Count, timings.Committing, now))
                {
                    return false;
                }
                await SendAsync((from, nonce) => new CloseCommits { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round }, cancellationToken);
                LogPhase(logger, TaskId, round.Round, "commits", round.Committed.Count, round.PickedValidators.Count);
                return true;
            case RoundPhase.Revealing:
                if (!Due(round.Revealed.Count, round.Committed.Count, timings.Revealing, now))
                {
                    return false;
                }
                await FinalizeAsync(round, cancellationToken);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A phase ends when everyone expected has answered, or at its deadline with whoever did.</summary>
    private bool Due(int answered, int expected, TimeSpan deadline, DateTimeOffset now) =>
        answered >= expected || now - _phaseSeen.Since >= deadline;

    /// <summary>A tournament window: at its deadline; when every picked trainer used the limit; or when every one submitted and then none for the quiet time.</summary>
    private bool WindowDue(RoundInfo round, RoundTimings timings, DateTimeOffset now)
    {
        if (_submissionsSeen.Round != round.Round || _submissionsSeen.Count != round.Updates.Count)
        {
            _submissionsSeen = (round.Round, round.Updates.Count, now);
        }
        var limit = (int)_spec.Tournament!.SubmissionsPerTrainer;
        var counts = round.Updates.GroupBy(u => u.Trainer).ToDictionary(g => g.Key, g => g.Count());
        var all = round.PickedTrainers.Count > 0 && round.PickedTrainers.All(counts.ContainsKey);
        return now - _phaseSeen.Since >= timings.Training
            || (all && round.PickedTrainers.All(t => counts[t] >= limit))
            || (all && now - _submissionsSeen.Since >= timings.TournamentQuiet);
    }

    private async Task FinalizeAsync(RoundInfo round, CancellationToken cancellationToken)
    {
        var task = (await coordinator.Ledger.GetTaskAsync(TaskId, cancellationToken))!;
        // The same computation anyone closing the round after its deadline runs (RoundCloser), so the outcome is the same.
        var model = await RoundCloser.NewModelAsync(coordinator.Ledger, task, round, _spec, coordinator.ReadBlobAsync, coordinator.Incentives, cancellationToken);
        if (model.Bytes is not null)
        {
            await coordinator.Blobs.PutAsync(model.Bytes, cancellationToken);
        }
        await SendAsync((from, nonce) => new FinalizeRound { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round, NewModelHash = model.Hash }, cancellationToken);
        LogFinalized(logger, TaskId, round.Round, model.Accepted, round.Updates.Count);
    }

    private async Task SendAsync(Func<Address, ulong, Transaction> build, CancellationToken cancellationToken)
    {
        var key = coordinator.Key;
        var nonce = await coordinator.Ledger.GetNonceAsync(key.Address, cancellationToken);
        var signed = key.SignTransaction(build(key.Address, nonce), coordinator.Ledger.ChainId) with { ChainId = coordinator.Ledger.ChainId };
        await coordinator.Ledger.SubmitAsync(signed, cancellationToken);
    }

    private async Task PublishAsync(uint round, bool completed, CancellationToken cancellationToken)
    {
        if (await coordinator.Ledger.GetRoundAsync(TaskId, round, cancellationToken) is { } info)
        {
            coordinator.Events.Publish(RoundEventFactory.From(info, completed));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task}: round {Round} opened")]
    private static partial void LogOpened(ILogger logger, ulong task, uint round);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: {Phase} closed with {Count} of {Expected}")]
    private static partial void LogPhase(ILogger logger, ulong task, uint round, string phase, int count, int expected);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: finalized, {Accepted} of {Updates} updates accepted")]
    private static partial void LogFinalized(ILogger logger, ulong task, uint round, int accepted, int updates);

    [LoggerMessage(Level = LogLevel.Warning, Message = "task {Task}: cancelled after {Rounds} settled rounds; this coordinator stops driving it")]
    private static partial void LogCancelled(ILogger logger, ulong task, uint rounds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "task {Task}: handed over to coordinator {Coordinator}; this coordinator stops driving it")]
    private static partial void LogHandedOver(ILogger logger, ulong task, Address coordinator);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task}: the ledger moved on before this coordinator did ({Reason}); reading it again")]
    private static partial void LogRaced(ILogger logger, ulong task, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task}: recomputed the model round {Round} settled on ({Model}), which another party settled")]
    private static partial void LogRecomputed(ILogger logger, ulong task, uint round, Hash32 model);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task}: completed after {Rounds} rounds")]
    private static partial void LogCompleted(ILogger logger, ulong task, uint rounds);
}
