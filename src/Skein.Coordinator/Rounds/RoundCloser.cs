using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Coordinator.Rounds;

/// <summary>
/// Closes a round's current phase as anyone may after its deadline, and as the coordinator does before: closing
/// training or commits needs nothing but the ledger; settling needs the round's new model, which everyone computes
/// the same way from public data (the settlement's verdicts, then the task's aggregation of the accepted updates),
/// so that the outcome does not depend on who closed the round.
/// </summary>
public static class RoundCloser
{
    /// <summary>The new model a settling round records: its hash, and its bytes when they are new (null: the round's model stands).</summary>
    public sealed record NewModel(Hash32 Hash, byte[]? Bytes, int Accepted);

    /// <summary>What closing the phase takes: the transaction to sign, and the new model when it settles the round.</summary>
    public sealed record Closing(RoundInfo Round, Transaction Transaction, NewModel? Model);

    /// <summary>
    /// The transaction that closes the current phase of the task's open round. <paramref name="spec"/> and
    /// <paramref name="read"/> are needed only to settle a round that accepted updates; without them that is refused,
    /// naming what is missing.
    /// </summary>
    public static async Task<Closing> NextAsync(ILedger ledger, ulong taskId, Address from, TaskSpec? spec, RoundAggregation.BlobReader? read,
        IncentiveParams incentives, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var task = await ledger.GetTaskAsync(taskId, cancellationToken) ?? throw new LedgerException(LedgerError.UnknownTask, $"task: no task {taskId} on this ledger");
        if (!task.Live)
        {
            throw new LedgerException(task.Cancelled ? LedgerError.TaskCancelled : LedgerError.TaskCompleted, $"task: task {taskId} has {(task.Cancelled ? "been cancelled" : "completed")}; it has no phase to close");
        }
        var round = await ledger.GetRoundAsync(taskId, task.SettledRounds + 1, cancellationToken);
        if (round is null || round.Phase == RoundPhase.Settled)
        {
            throw new LedgerException(LedgerError.RoundNotOpen, $"task: task {taskId} has no open round (round {task.SettledRounds + 1} is not open yet); only its coordinator opens rounds");
        }
        var nonce = await ledger.GetNonceAsync(from, cancellationToken);
        switch (round.Phase)
        {
            case RoundPhase.Training:
                return new Closing(round, new CloseTraining { From = from, Nonce = nonce, TaskId = taskId, Round = round.Round }, null);
            case RoundPhase.Committing:
                return new Closing(round, new CloseCommits { From = from, Nonce = nonce, TaskId = taskId, Round = round.Round }, null);
            default:
                var model = await NewModelAsync(ledger, task, round, spec, read, incentives, cancellationToken);
                return new Closing(round, new FinalizeRound { From = from, Nonce = nonce, TaskId = taskId, Round = round.Round, NewModelHash = model.Hash }, model);
        }
    }

    /// <summary>
    /// The model a round in its reveal phase settles on: the ledger's own verdicts over the revealed scores, then the
    /// accepted updates aggregated (a federated round) or the winner merged (a tournament window); the round's model
    /// when nothing is accepted.
    /// </summary>
    public static async Task<NewModel> NewModelAsync(ILedger ledger, TaskInfo task, RoundInfo round, TaskSpec? spec, RoundAggregation.BlobReader? read,
        IncentiveParams incentives, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(round);
        var revealed = new List<ValidatorReveal>();
        foreach (var (validator, scores) in round.Scores.OrderBy(kv => kv.Key))
        {
            var stake = await ledger.GetStakeAsync(validator, Role.Validator, cancellationToken);
            revealed.Add(new ValidatorReveal(validator, stake.Self + stake.Delegated, scores));
        }
        var input = new SettlementInput(
            round.Updates.Select(u => new UpdateInfo(u.Trainer, u.Samples)).ToArray(),
            revealed,
            round.Committed.Where(v => !round.Scores.ContainsKey(v)).ToArray(),
            0,
            task.RejectBelow,
            incentives);
        if (task.Tournament is { } rules)
        {
            var stakes = new List<UInt128>();
            foreach (var u in round.Updates)
            {
                var stake = await ledger.GetStakeAsync(u.Trainer, Role.Trainer, cancellationToken);
                stakes.Add(stake.Self + stake.Delegated);
            }
            var earlier = new List<(Address, Hash32)>();
            for (uint w = 1; w < round.Round; w++)
            {
                earlier.AddRange((await ledger.GetRoundAsync(task.Id, w, cancellationToken))!.Updates.Select(u => (u.Trainer, u.UpdateHash)));
            }
            var copies = TournamentSettlement.ExactCopies(earlier, round.Updates.Select(u => (u.Trainer, u.UpdateHash)).ToArray());
            var verdicts = TournamentSettlement.Compute(input, rules, stakes, copies).Verdicts;
            var winner = TournamentWindow.Winner(verdicts);
            if (winner < 0)
            {
                return new NewModel(round.ModelHash, null, 0);
            }
            var (s, r) = Needs(spec, read, task.Id, round.Round);
            var merged = await TournamentWindow.MergeAsync(r, s, round.ModelHash, round.Updates[winner].UpdateHash, cancellationToken);
            return new NewModel(Sha256(merged), merged, verdicts.Count(v => v.Accepted));
        }
        var accepted = RoundSettlement.Compute(input).Verdicts.Where(v => v.Accepted).Select(v => round.Updates[v.Index]).ToArray();
        if (accepted.Length == 0)
        {
            return new NewModel(round.ModelHash, null, 0);
        }
        var (fs, fr) = Needs(spec, read, task.Id, round.Round);
        var previous = round.Round > 1 ? (await ledger.GetRoundAsync(task.Id, round.Round - 1, cancellationToken))?.ModelHash : null;
        var bytes = await RoundAggregation.ComputeAsync(fr, fs, round, accepted, previous, cancellationToken);
        return new NewModel(Sha256(bytes), bytes, accepted.Length);
    }

    private static Hash32 Sha256(byte[] bytes) => new(System.Security.Cryptography.SHA256.HashData(bytes));

    private static (TaskSpec Spec, RoundAggregation.BlobReader Read) Needs(TaskSpec? spec, RoundAggregation.BlobReader? read, ulong taskId, uint round) =>
        spec is not null && read is not null
            ? (spec, read)
            : throw new ArgumentException($"round {round} of task {taskId} accepted updates: settling it records their aggregate, which needs the task's spec (--spec) and a place to read the updates from (--blobs-from)");
}
