using System.Buffers.Binary;
using Skein.Aggregation;
using Skein.Coordinator.Grpc;
using Skein.Core;
using Skein.Learning.Tasks;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.State;

namespace Skein.Coordinator.Rounds;

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
        var layout = TaskModels.Layout(spec);
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

/// <summary>A tournament window's outcome as anyone can recompute it: the winner, and the window's model with the winner's update merged in.</summary>
public static class TournamentWindow
{
    /// <summary>The ranked submission with the highest consensus (the earliest among equals), or -1 when none ranked.</summary>
    public static int Winner(IReadOnlyList<Skein.Ledger.Incentives.UpdateVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var winner = -1;
        for (var i = 0; i < verdicts.Count; i++)
        {
            if (verdicts[i].Accepted && (winner < 0 || verdicts[i].ConsensusScore > verdicts[winner].ConsensusScore))
            {
                winner = i;
            }
        }
        return winner;
    }

    /// <summary>The window's model plus the winner's update, as safetensors: the adapter the window produced.</summary>
    public static async Task<byte[]> MergeAsync(RoundAggregation.BlobReader read, TaskSpec spec, Hash32 model, Hash32 winner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(spec);
        var layout = TaskModels.Layout(spec);
        var global = layout.FromSafeTensors(SafeTensors.Parse(await read(RoundEventFactory.Hex(model), cancellationToken)));
        var delta = layout.FromSafeTensors(SafeTensors.Parse(await read(RoundEventFactory.Hex(winner), cancellationToken)));
        System.Numerics.Tensors.TensorPrimitives.Add(global, delta, global);
        return layout.ToSafeTensors(global);
    }
}
