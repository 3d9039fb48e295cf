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
            var r = task.SettledRounds + 1;
            var round = await ledger.GetRoundAsync(TaskId, r, cancellationToken);
            if (round is null)
            {
                var model = task.SettledRounds == 0 ? Hash32.Parse(hosted.InitialModel) : task.ModelHash;
                await SendAsync((from, nonce) => new OpenRound { From = from, Nonce = nonce, TaskId = TaskId, Round = r, ModelHash = model }, cancellationToken);
                LogOpened(logger, TaskId, r);
                await PublishAsync(r, false, cancellationToken);
                continue;
            }
            if (await StepAsync(round, cancellationToken))
            {
                await PublishAsync(r, false, cancellationToken);
                continue;
            }
            await coordinator.Events.WaitAsync(TaskId, TimeSpan.FromMilliseconds(200), cancellationToken);
        }
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
                {
                    var all = round.Updates.Count >= round.PickedTrainers.Count;
                    if (!all && now - _phaseSeen.Since < timings.Training)
                    {
                        return false;
                    }
                    await SendAsync((from, nonce) => new CloseTraining { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round }, cancellationToken);
                    LogPhase(logger, TaskId, round.Round, "training", round.Updates.Count, round.PickedTrainers.Count);
                    return true;
                }
            case RoundPhase.Committing:
                {
                    var all = round.Committed.Count >= round.PickedValidators.Count;
                    if (!all && now - _phaseSeen.Since < timings.Committing)
                    {
                        return false;
                    }
                    await SendAsync((from, nonce) => new CloseCommits { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round }, cancellationToken);
                    LogPhase(logger, TaskId, round.Round, "commits", round.Committed.Count, round.PickedValidators.Count);
                    return true;
                }
            case RoundPhase.Revealing:
                {
                    var all = round.Revealed.Count >= round.Committed.Count;
                    if (!all && now - _phaseSeen.Since < timings.Revealing)
                    {
                        return false;
                    }
                    await FinalizeAsync(round, cancellationToken);
                    return true;
                }
            default:
                return false;
        }
    }

    private async Task FinalizeAsync(RoundInfo round, CancellationToken cancellationToken)
    {
        var ledger = coordinator.Ledger;
        // The same rule the ledger applies when it settles: which updates a stake-weighted consensus accepts.
        var revealed = new List<ValidatorReveal>();
        foreach (var (validator, scores) in round.Scores.OrderBy(kv => kv.Key))
        {
            var stake = await ledger.GetStakeAsync(validator, Role.Validator, cancellationToken);
            revealed.Add(new ValidatorReveal(validator, stake.Self + stake.Delegated, scores));
        }
        var task = (await ledger.GetTaskAsync(TaskId, cancellationToken))!;
        var verdicts = RoundSettlement.Compute(new SettlementInput(
            round.Updates.Select(u => new UpdateInfo(u.Trainer, u.Samples)).ToArray(),
            revealed,
            round.Committed.Where(v => !round.Scores.ContainsKey(v)).ToArray(),
            0,
            task.RejectBelow,
            ledger.Params.Incentives)).Verdicts;
        var accepted = verdicts.Where(v => v.Accepted).Select(v => round.Updates[v.Index]).ToArray();

        var newModel = accepted.Length == 0
            ? round.ModelHash
            : await AggregateAsync(round, accepted, cancellationToken);
        await SendAsync((from, nonce) => new FinalizeRound { From = from, Nonce = nonce, TaskId = TaskId, Round = round.Round, NewModelHash = newModel }, cancellationToken);
        LogFinalized(logger, TaskId, round.Round, accepted.Length, round.Updates.Count);
    }

    /// <summary>global + strategy(accepted deltas), stored as safetensors; returns its SHA-256.</summary>
    public async Task<Hash32> AggregateAsync(RoundInfo round, IReadOnlyList<UpdateEntry> accepted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(accepted);
        var previous = round.Round > 1 ? (await coordinator.Ledger.GetRoundAsync(TaskId, round.Round - 1, cancellationToken))?.ModelHash : null;
        var bytes = await RoundAggregation.ComputeAsync(coordinator.Blobs.ReadAllAsync, _spec, round, accepted, previous, cancellationToken);
        return Hash32.Parse(await coordinator.Blobs.PutAsync(bytes, cancellationToken));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task}: completed after {Rounds} rounds")]
    private static partial void LogCompleted(ILogger logger, ulong task, uint rounds);
}

/// <summary>
/// The aggregation of a round as anyone can recompute it from public data: the previous model and the accepted
/// updates (by hash, with their sample counts), combined by the task's strategy with the round's seed. A strategy
/// with server state (FedAvgM's momentum) rebuilds it from the last global step, the round's model against the
/// previous round's, so nothing hidden enters. <c>skein verify</c> runs exactly this.
/// </summary>
public static class RoundAggregation
{
    /// <summary>Reads a blob by its SHA-256 (hex): from the local store, or over the network for a verifier.</summary>
    public delegate Task<byte[]> BlobReader(string sha256, CancellationToken cancellationToken);

    /// <summary>Refuses strategies whose server state a verifier could not rebuild from published models.</summary>
    public static void CheckVerifiable(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var strategy = StrategyFactory.Create(new StrategySpec(spec.Strategy.Name, spec.Strategy.Params));
        if (StrategyState.HasHiddenState(strategy))
        {
            throw new FormatException($"strategy.name: '{spec.Strategy.Name}' keeps server state (adaptive moments) that no one could recompute from the ledger; a networked task needs a strategy whose rounds can be verified (fedavg, fedavgm, fedprox, median, trimmed_mean, krum, multikrum, bulyan, dpfedavg)");
        }
    }

    /// <summary>
    /// The next global model, as safetensors bytes. <paramref name="previousModelHash"/> is the model the previous
    /// round started from (null in round 1); with the round's own model it gives the last step.
    /// </summary>
    public static Task<byte[]> ComputeAsync(BlobReader read, TaskSpec spec, RoundInfo round, IReadOnlyList<UpdateEntry> accepted, Hash32? previousModelHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(accepted);
        return ComputeAsync(read, spec, new RoundInputs(round.Round, round.Seed, round.ModelHash, previousModelHash, accepted.Select(u => (u.UpdateHash, u.Samples)).ToArray()), cancellationToken);
    }

    /// <summary>The same from the round's public facts alone, as a verifier reads them.</summary>
    public static async Task<byte[]> ComputeAsync(BlobReader read, TaskSpec spec, RoundInputs inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!ModelNames.TryParse(spec.Model, out var kind))
        {
            throw new InvalidOperationException($"model: unknown '{spec.Model}'");
        }
        var layout = ModelLayouts.For(kind);
        var global = layout.FromSafeTensors(SafeTensors.Parse(await read(RoundEventFactory.Hex(inputs.ModelHash), cancellationToken)));
        var updates = new List<ClientUpdate>(inputs.Accepted.Count);
        // In the order of their hashes, not of their arrival: which trainer's upload lands first is a race, and a
        // float sum depends on its order, so this makes a whole network run reproducible, not only each round.
        foreach (var (hash, samples) in inputs.Accepted.OrderBy(a => RoundEventFactory.Hex(a.Update), StringComparer.Ordinal))
        {
            var delta = layout.FromSafeTensors(SafeTensors.Parse(await read(RoundEventFactory.Hex(hash), cancellationToken)));
            updates.Add(new ClientUpdate(delta, (long)samples));
        }
        var strategy = StrategyFactory.Create(new StrategySpec(spec.Strategy.Name, spec.Strategy.Params));
        if (inputs.PreviousModelHash is { } previous && strategy is IStepDerivedState or NormClipping { Inner: IStepDerivedState })
        {
            var before = layout.FromSafeTensors(SafeTensors.Parse(await read(RoundEventFactory.Hex(previous), cancellationToken)));
            StrategyState.RestoreFromLastStep(strategy, before, global);
        }
        if (updates.Count > 0)
        {
            var seed = BinaryPrimitives.ReadUInt64BigEndian(inputs.Seed.Bytes);
            strategy.Aggregate(global, updates, new AggregationContext(inputs.Round, seed));
        }
        return layout.ToSafeTensors(global);
    }
}

/// <summary>What a round's aggregate depends on, all of it public: its number and seed, its model, the previous round's model, and the accepted updates with their sample counts (aggregated in the order of their hashes).</summary>
public sealed record RoundInputs(uint Round, Hash32 Seed, Hash32 ModelHash, Hash32? PreviousModelHash, IReadOnlyList<(Hash32 Update, ulong Samples)> Accepted);
